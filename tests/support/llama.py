"""One real llama-server with the tiny Gemma for the whole test session.

Started once per session (not per test) on a free loopback port; every suite that needs a model
server uses the ``llama_server`` fixture from tests/conftest.py.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path


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
