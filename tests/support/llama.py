"""One real llama-server with the tiny Gemma for the whole test session.

Started once per session (not per test) on a free loopback port; every suite that needs a model
server uses the ``llama_server`` fixture from tests/conftest.py.
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


def runtime_settings(config_dir: Path, **overrides: Any) -> Any:
    """Settings for a test llama-server: defaults plus ``{"section.key": value}`` overrides,
    read without the developer's config file or CODEASSIST_* variables. 4K context, 2 slots."""
    from codeassist.config import load_settings

    values: dict[str, Any] = {"server.ctx_size": 4096, "server.parallel": 2, "server.startup_timeout": 120.0}
    values.update(overrides)
    return load_settings(None, overrides=values, env={}, user_config=config_dir / "config.toml")
