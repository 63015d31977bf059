"""A small Hugging Face Hub on 127.0.0.1 serving what huggingface_hub needs to pull a file.

Routes: ``GET /api/models/<repo>[/revision/<rev>]`` (repository info with LFS sha256 per file) and
``HEAD``/``GET /<repo>/resolve/<rev>/<file>`` (file metadata headers and the bytes).
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from dataclasses import dataclass, field
from typing import Any

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class FakeRepo:
    repo: str
    files: dict[str, bytes]
    # names whose advertised sha256 is wrong (to test verification)
    lie_about: set[str] = field(default_factory=set)
    requests: list[str] = field(default_factory=list)

    def sha(self, name: str) -> str:
        digest = hashlib.sha256(self.files[name]).hexdigest()
        return "0" * 64 if name in self.lie_about else digest


class HubHandler(http.server.BaseHTTPRequestHandler):
    hub: FakeRepo

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str], *, head: bool = False) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _route(self, head: bool) -> None:
        hub = self.hub
        path = self.path.split("?", 1)[0]
        hub.requests.append(f"{self.command} {path}")
        if path.startswith(f"/api/models/{hub.repo}"):
            siblings = [{"rfilename": n, "size": len(b), "blobId": hashlib.sha1(b).hexdigest(),
                         "lfs": {"size": len(b), "sha256": hub.sha(n), "pointerSize": 134}}
                        for n, b in hub.files.items()]
            body = json.dumps({"id": hub.repo, "modelId": hub.repo, "sha": COMMIT, "private": False,
                               "siblings": siblings}).encode()
            self._send(200, body, {"Content-Type": "application/json"}, head=head)
            return
        prefix = f"/{hub.repo}/resolve/"
        if path.startswith(prefix):
            _rev, _, name = path[len(prefix):].partition("/")
            if name in hub.files:
                data = hub.files[name]
                self._send(200, data, {"X-Repo-Commit": COMMIT, "ETag": f'"{hub.sha(name)}"',
                                       "X-Linked-Etag": f'"{hub.sha(name)}"', "X-Linked-Size": str(len(data)),
                                       "Content-Type": "application/octet-stream"}, head=head)
                return
            self._send(404, b"Entry not found", {"X-Error-Code": "EntryNotFound"}, head=head)
            return
        self._send(404, b"Repository not found", {"X-Error-Code": "RepoNotFound"}, head=head)

    def do_GET(self) -> None:
        self._route(head=False)

    def do_HEAD(self) -> None:
        self._route(head=True)


def serve(hub: FakeRepo) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = type("Handler", (HubHandler,), {"hub": hub})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
