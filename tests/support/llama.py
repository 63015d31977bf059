"""Real llama-servers for the whole test session: the tiny Gemma, and the product's default model.

Started once per session (not per test) on free loopback ports: ``llama_server`` (tiny Gemma: no
FIM tokens, no template of its own; most suites) and ``default_llama_server`` (the offline default
a fresh install chats with), both from tests/support/llama_fixture.py.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class LlamaServerInfo:
    url: str
    port: int
    binary: Path
    model: Path
    name: str = "gemma3-270m-tiny"  # the catalogue name of the model it serves


def runtime_settings(config_dir: Path, **overrides: Any) -> Any:
    """Settings for a test llama-server: defaults plus ``{"section.key": value}`` overrides,
    read without the developer's config file or CODEASSIST_* variables. 4K context, 2 slots.

    The model is the tiny Gemma (no FIM tokens, no chat template of its own), whatever the
    product's default is: tests that need the default ask for it (``default_llama_server``)."""
    from codeassist.config import load_settings
    from codeassist.runtime.catalogue import TINY_MODEL

    values: dict[str, Any] = {"server.ctx_size": 4096, "server.parallel": 2, "server.startup_timeout": 120.0,
                              "model.name": TINY_MODEL}
    values.update(overrides)
    return load_settings(None, overrides=values, env={}, user_config=config_dir / "config.toml")
