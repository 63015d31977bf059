"""Session fixtures: real llama-servers (tiny Gemma; the default model), started through codeassist.

It goes the product's way: the binary from provisioning (configured / PATH / cached build, which
``codeassist server build`` made), the model from the catalogue (an offline model), and the
process from :class:`~codeassist.runtime.server.ManagedServer` with its state files in a temp dir.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.llama import LlamaServerInfo, free_port, runtime_settings


def _serve(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[LlamaServerInfo]:
    from codeassist.errors import ServerBinaryError
    from codeassist.runtime import catalogue, provision
    from codeassist.runtime.server import ManagedServer

    port = free_port()
    settings = runtime_settings(tmp_path_factory.mktemp("llama-config"),
                                **{"server.port": port, "model.name": name})
    try:
        binary = provision.ensure_server_binary(settings)
    except ServerBinaryError:
        binary = provision.build_server(settings)  # reuses and verifies an existing build
    model = catalogue.resolve_model_path(settings)
    server = ManagedServer(settings, state_dir=tmp_path_factory.mktemp("llama-state"))
    status = server.start()
    try:
        yield LlamaServerInfo(url=status.url, port=port, binary=Path(binary.path), model=Path(model),
                              name=name)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServerInfo]:
    """The tiny Gemma 3 270M base (the suites' model: protocol and flow, not answer quality)."""
    from codeassist.runtime.catalogue import TINY_MODEL

    yield from _serve(tmp_path_factory, TINY_MODEL)


@pytest.fixture(scope="session")
def default_llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServerInfo]:
    """The offline default model a fresh install chats with (answers are checked on content)."""
    from codeassist.runtime.catalogue import DEFAULT_MODEL

    yield from _serve(tmp_path_factory, DEFAULT_MODEL)
