"""Fixtures of the runtime tests: settings with a free port, the tiny model, a loopback HTTP peer."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from codeassist.config import Settings
from tests.support.llama import LlamaServerInfo, free_port, runtime_settings


@pytest.fixture
def make_settings(tmp_path: Path, llama_server: LlamaServerInfo) -> Callable[..., Settings]:
    """Settings for a fresh managed server: a free port, the session's binary and tiny model."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {"server.port": free_port(), "server.binary": str(llama_server.binary)}
        values.update({k.replace("__", "."): v for k, v in overrides.items()})
        return runtime_settings(tmp_path, **values)

    return make


class _Handler(http.server.BaseHTTPRequestHandler):
    status = 200
    body = b"{}"
    content_type = "application/json"

    def _answer(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        self._answer()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def http_peer() -> Iterator[Callable[[int, bytes, str], str]]:
    """Start a real HTTP server on 127.0.0.1 answering every request with a fixed status/body."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(status: int, body: bytes, content_type: str = "application/json") -> str:
        handler = type("Handler", (_Handler,), {"status": status, "body": body, "content_type": content_type})
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}"

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()
