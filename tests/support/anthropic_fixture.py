"""pytest fixture ``anthropic_stub``: a fresh loopback Anthropic Messages API server per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.anthropic_stub import AnthropicStub


@pytest.fixture
def anthropic_stub() -> Iterator[AnthropicStub]:
    """The server on 127.0.0.1: ``.url``, ``.script(reply...)``, ``.requests``, ``.overrides()``."""
    with AnthropicStub() as stub:
        yield stub
