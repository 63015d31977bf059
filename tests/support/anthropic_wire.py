"""The HTTP side of the loopback Anthropic server (see ``anthropic_stub.py``): routes, JSON and
SSE bodies, errors, and connections cut mid-stream."""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import socket
import time
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

__all__ = ["Handler", "api_key", "sse_events", "tokens"]

_msg_ids = itertools.count(1)


def tokens(text: str) -> int:
    """The stub's token count: about four characters per token."""
    return max(1, math.ceil(len(text) / 4)) if text else 0


def _pieces(text: str, size: int) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


def output_tokens(blocks: list[dict[str, Any]]) -> int:
    return sum(tokens(b["text"]) if b["type"] == "text" else tokens(json.dumps(b["input"])) for b in blocks)


def sse_events(message: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The Messages API event sequence that streams ``message``."""
    usage = message["usage"]
    start = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
    events: list[tuple[str, dict[str, Any]]] = [
        ("message_start", {"type": "message_start", "message": start}), ("ping", {"type": "ping"})]
    for index, blk in enumerate(message["content"]):
        if blk["type"] == "text":
            events.append(("content_block_start", {"type": "content_block_start", "index": index,
                                                   "content_block": {"type": "text", "text": ""}}))
            events.extend(("content_block_delta", {"type": "content_block_delta", "index": index,
                                                   "delta": {"type": "text_delta", "text": piece}})
                          for piece in _pieces(blk["text"], 12))
        else:
            events.append(("content_block_start", {"type": "content_block_start", "index": index,
                                                   "content_block": {**blk, "input": {}}}))
            events.extend(("content_block_delta", {
                "type": "content_block_delta", "index": index,
                "delta": {"type": "input_json_delta", "partial_json": piece}})
                for piece in _pieces(json.dumps(blk["input"]), 16))
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    events.append(("message_delta", {"type": "message_delta",
                                     "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                                     "usage": {"output_tokens": usage["output_tokens"]}}))
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def api_key(headers: Any) -> str | None:
    """The key as SDK releases send it: ``x-api-key``, or ``Authorization: Bearer``."""
    bearer = headers.get("authorization") or ""
    value: str | None = headers.get("x-api-key") or (bearer[7:] if bearer.startswith("Bearer ") else None)
    return value


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls between headers and body
    stub: Any  # the AnthropicStub, set on the subclass

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # routes

    def do_GET(self) -> None:
        parsed = urlparse(self.path)
        self._record("", None)
        if not self._authorised():
            return
        if parsed.path == "/v1/models":
            self._models(parse_qs(parsed.query))
        else:
            self._error(404, "not_found_error", f"stub: no route GET {parsed.path}")

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length") or 0)).decode("utf-8")
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = None
        path = urlparse(self.path).path
        self._record(raw, body)
        if not self._authorised():
            return
        if body is None:
            self._error(400, "invalid_request_error", "stub: the body is not JSON")
        elif path == "/v1/messages/count_tokens":
            self._json(200, {"input_tokens": self.stub.count(body)})
        elif path == "/v1/messages":
            self._messages(body)
        else:
            self._error(404, "not_found_error", f"stub: no route POST {path}")

    def _authorised(self) -> bool:
        if self.stub.api_key is not None and api_key(self.headers) != self.stub.api_key:
            self._error(401, "authentication_error", "stub: invalid API key")
            return False
        return True

    def _record(self, raw: str, body: dict[str, Any] | None) -> None:
        from tests.support.anthropic_stub import Recorded

        path = urlparse(self.path).path
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.stub._record(Recorded(self.command, path, headers, raw, body))

    def _models(self, query: dict[str, list[str]]) -> None:
        limit = int(query.get("limit", ["20"])[0])
        ordered = sorted(self.stub.models, key=lambda m: m[1], reverse=True)[:limit]
        data = [{"type": "model", "id": mid, "display_name": mid, "created_at": created}
                for mid, created in ordered]
        self._json(200, {"data": data, "has_more": False, "first_id": data[0]["id"] if data else None,
                         "last_id": data[-1]["id"] if data else None})

    def _messages(self, body: dict[str, Any]) -> None:
        scripted = self.stub._next()
        if scripted is None:
            self._error(400, "invalid_request_error", "stub: no scripted reply left for this request")
            return
        if scripted.kind == "error":
            self._error(scripted.status, scripted.error_type, scripted.error_message, scripted.headers)
            return
        usage = {**self.stub.usage_for(body), "output_tokens": output_tokens(scripted.blocks),
                 **(scripted.usage or {})}
        message = {"id": f"msg_stub{next(_msg_ids):05d}", "type": "message", "role": "assistant",
                   "model": body.get("model", ""), "content": scripted.blocks,
                   "stop_reason": scripted.stop_reason, "stop_sequence": None, "usage": usage}
        if body.get("stream"):
            self._stream(message, scripted)
        elif scripted.kind == "truncated":
            self._cut_json(message)
        else:
            self._json(200, message)

    # bodies

    def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("request-id", f"req_stub{next(_msg_ids):05d}")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> None:
        self._json(status, {"type": "error", "error": {"type": kind, "message": message}}, headers)

    def _cut_json(self, message: dict[str, Any]) -> None:
        data = json.dumps(message).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self._abort()

    def _stream(self, message: dict[str, Any], scripted: Any) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        events = sse_events(message)
        if scripted.kind == "stream_error":
            error = {"type": "error",
                     "error": {"type": scripted.error_type, "message": scripted.error_message}}
            events = [*events[:-3], ("error", error)]  # no block stop / message_delta / message_stop
            if not scripted.blocks:
                events = [*events[:2], ("error", error)]
        if scripted.kind == "truncated":
            cut = scripted.cut_after if scripted.cut_after is not None else max(4, len(events) // 2)
            events = events[: min(cut, len(events) - 2)]
        try:
            for name, data in events:
                self._chunk(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
                if scripted.delay:
                    time.sleep(scripted.delay)
            if scripted.kind == "truncated" and not scripted.clean_eof:
                self._abort()
                return
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):  # the client went away (cancelled)
            self.close_connection = True

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _abort(self) -> None:
        """Reset the connection: the body never ends properly."""
        self.wfile.flush()
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
