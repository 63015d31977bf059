"""Session fixtures for the serving tests: an OpenAI-only front, keyed llama-servers, Gemma 4.

Started once per test session, through codeassist's own :class:`ManagedServer` (binary, flags,
state files in temp dirs).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.fronts import OpenAIFront
from tests.support.llama import LlamaServerInfo, free_port, runtime_settings

API_KEY = "test-key-5f2c"  # what the keyed servers are started with


@dataclass
class KeyedServers:
    """Two real llama-servers with ``--api-key`` (the tiny Gemma), for pools and auth tests."""

    servers: list[Any]  # ManagedServer
    key: str

    @property
    def urls(self) -> list[str]:
        return [s.url for s in self.servers]


def _managed(tmp: pytest.TempPathFactory, binary: Path, **overrides: Any) -> Any:
    from codeassist.runtime.server import ManagedServer

    values: dict[str, Any] = {"server.port": free_port(), "server.binary": str(binary), "server.threads": 1}
    values.update(overrides)
    settings = runtime_settings(tmp.mktemp("srv-config"), **values)
    return ManagedServer(settings, state_dir=tmp.mktemp("srv-state"))


@pytest.fixture(scope="session")
def openai_front(llama_server: LlamaServerInfo) -> Iterator[OpenAIFront]:
    front = OpenAIFront(llama_server.port).start()
    try:
        yield front
    finally:
        front.stop()


@pytest.fixture(scope="session")
def keyed_servers(tmp_path_factory: pytest.TempPathFactory, llama_server: LlamaServerInfo
                  ) -> Iterator[KeyedServers]:
    servers = [_managed(tmp_path_factory, llama_server.binary, **{"server.api_key": API_KEY})
               for _ in range(2)]
    try:
        for server in servers:
            server.start()
        yield KeyedServers(servers, API_KEY)
    finally:
        for server in servers:
            server.stop()


@pytest.fixture(scope="session")
def gemma4_model() -> Path:
    from tests.support import gemma4_tiny

    return gemma4_tiny.cached_model()
