"""Helpers for the Claude tests: settings and a client pointed at the loopback server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from codeassist.claude.client import ClaudeClient
from codeassist.claude.ledger import Ledger
from codeassist.config import Settings, load_settings
from tests.support.anthropic_stub import TEST_API_KEY, AnthropicStub


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "ledger.db")


@pytest.fixture
def stub_settings(anthropic_stub: AnthropicStub, tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values = {**anthropic_stub.overrides(), "claude.max_retries": 2,
                  **{k.replace("__", "."): v for k, v in overrides.items()}}
        return load_settings(tmp_path, overrides=values, env={})

    return make


@pytest.fixture
def make_client(stub_settings: Callable[..., Settings],
                ledger: Ledger) -> Iterator[Callable[..., ClaudeClient]]:
    """``make_client(claude__max_retries=1, command="refactor", max_cost=...)``."""
    made: list[ClaudeClient] = []

    def make(*, command: str = "test", max_cost: float | None = None, api_key: str | None = TEST_API_KEY,
             **overrides: Any) -> ClaudeClient:
        client = ClaudeClient(stub_settings(**overrides), ledger, api_key=api_key, command=command,
                              max_cost=max_cost)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
