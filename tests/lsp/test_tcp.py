"""`codeassist lsp --tcp PORT`: the same server over a TCP socket (editors that connect, not spawn)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.support.llama import free_port


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    body = json.dumps(message).encode()
    sock.sendall(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))


def _receive(sock: socket.socket, want_id: int) -> dict[str, Any]:
    """Read framed messages until the answer to ``want_id`` (notifications are skipped)."""
    buffer = b""
    while True:
        while b"\r\n\r\n" not in buffer:
            buffer += sock.recv(65536) or b""
        head, _, buffer = buffer.partition(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length"))
        while len(buffer) < length:
            buffer += sock.recv(65536)
        message, buffer = json.loads(buffer[:length]), buffer[length:]
        if message.get("id") == want_id:
            return message  # type: ignore[no-any-return]


def _connect(port: int, proc: subprocess.Popen[bytes]) -> socket.socket:
    deadline = time.monotonic() + 60
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=60)
        except OSError:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
            assert time.monotonic() < deadline, "the server never listened"
            time.sleep(0.1)


def test_initialize_and_symbols_over_tcp(repo: Path) -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "codeassist", "lsp", "--tcp", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        with _connect(port, proc) as sock:
            _send(sock, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "processId": None, "rootUri": repo.as_uri(), "capabilities": {},
                "initializationOptions": {"server": {"url": "http://127.0.0.1:9"}}}})
            result = _receive(sock, 1)["result"]
            assert result["serverInfo"]["name"] == "codeassist"
            assert "inlineCompletionProvider" in result["capabilities"]
            _send(sock, {"jsonrpc": "2.0", "method": "initialized", "params": {}})
            uri = (repo / "shapes.py").as_uri()
            _send(sock, {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
                "uri": uri, "languageId": "python", "version": 1,
                "text": (repo / "shapes.py").read_text(encoding="utf-8")}}})
            _send(sock, {"jsonrpc": "2.0", "id": 2, "method": "textDocument/documentSymbol",
                         "params": {"textDocument": {"uri": uri}}})
            names = [s["name"] for s in _receive(sock, 2)["result"]]
            assert "Circle" in names and "total_area" in names
            _send(sock, {"jsonrpc": "2.0", "id": 3, "method": "shutdown"})
            assert _receive(sock, 3)["result"] is None
            _send(sock, {"jsonrpc": "2.0", "method": "exit"})
        assert proc.wait(timeout=30) == 0
        assert proc.stdout is not None and proc.stdout.read() == b""  # nothing on stdout over TCP
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
