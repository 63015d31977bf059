"""A loopback HTTP server speaking the Anthropic Messages API, replaying scripted replies.

The one stand-in allowed for Claude: a real HTTP server on 127.0.0.1 (stdlib
``ThreadingHTTPServer`` in a thread) that the real ``anthropic`` SDK talks to. It serves

- ``POST /v1/messages`` — JSON or SSE streaming (message_start, content_block_start/delta with
  text_delta and input_json_delta, content_block_stop, message_delta with usage and stop_reason,
  message_stop), one scripted reply per request;
- ``POST /v1/messages/count_tokens`` — ``{"input_tokens": n}`` (about 4 characters per token);
- ``GET /v1/models`` — a model list, newest first.

Usage is computed from what arrived, and prompt caching is emulated: a ``cache_control``
breakpoint whose prefix was seen before (and is at least ``cache_min_tokens`` long) is reported
as ``cache_read_input_tokens``, a new one as ``cache_creation_input_tokens``.

Every request is recorded (``stub.requests``), so tests can assert what arrived::

    stub.script(
        reply.text("Plan: ..."),
        reply.error(429, retry_after=0),
        reply.edit("str_replace", "src/app.py", old_str="a", new_str="b"),
        reply.truncated("half an ans"),
    )
    ...
    stub.assert_not_received("AKIAIOSFODNN7EXAMPLE")
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.anthropic_wire import Handler, api_key, tokens

__all__ = ["DEFAULT_MODELS", "TEST_API_KEY", "AnthropicStub", "Recorded", "Scripted", "block", "reply"]

TEST_API_KEY = "test-key-for-the-loopback-server"
DEFAULT_MODELS = [
    ("claude-opus-4-7", "2026-04-16T00:00:00Z"),
    ("claude-sonnet-4-6", "2026-02-17T00:00:00Z"),
    ("claude-haiku-4-5-20251001", "2025-10-01T00:00:00Z"),
    ("claude-sonnet-4-5-20250929", "2025-09-29T00:00:00Z"),
]
_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error",
                500: "api_error", 503: "api_error", 529: "overloaded_error"}
_ids = itertools.count(1)


# -- scripted replies ---------------------------------------------------------------------------

@dataclass
class Scripted:
    """One scripted answer to one ``POST /v1/messages``."""

    kind: str  # message | error | truncated | stream_error
    blocks: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str = "end_turn"
    status: int = 200
    error_type: str = ""
    error_message: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    usage: dict[str, int] | None = None  # overrides the computed usage
    cut_after: int | None = None  # truncated: events sent before the cut
    clean_eof: bool = False  # truncated: end the body properly (no message_stop) instead of a reset
    delay: float = 0.0  # seconds between streamed events


class block:
    """Content blocks for :meth:`reply.message`."""

    @staticmethod
    def text(text: str) -> dict[str, Any]:
        return {"type": "text", "text": text}

    @staticmethod
    def tool_use(name: str, input: dict[str, Any], id: str | None = None) -> dict[str, Any]:
        return {"type": "tool_use", "id": id or f"toolu_stub{next(_ids):04d}", "name": name, "input": input}


class reply:
    """Constructors of scripted replies."""

    @staticmethod
    def text(text: str, *, stop_reason: str = "end_turn", usage: dict[str, int] | None = None,
             delay: float = 0.0) -> Scripted:
        return Scripted("message", [block.text(text)], stop_reason, usage=usage, delay=delay)

    @staticmethod
    def message(*blocks: dict[str, Any], stop_reason: str | None = None,
                usage: dict[str, int] | None = None) -> Scripted:
        """Any mix of :class:`block` text and tool_use blocks (stop_reason follows the last)."""
        has_tool = any(b["type"] == "tool_use" for b in blocks)
        return Scripted("message", list(blocks), stop_reason or ("tool_use" if has_tool else "end_turn"),
                        usage=usage)

    @staticmethod
    def tool_use(name: str, input: dict[str, Any], *, text: str | None = None, id: str | None = None,
                 usage: dict[str, int] | None = None) -> Scripted:
        blocks = ([block.text(text)] if text else []) + [block.tool_use(name, input, id)]
        return Scripted("message", blocks, "tool_use", usage=usage)

    @staticmethod
    def edit(command: str, path: str, *, text: str | None = None, id: str | None = None,
             **arguments: Any) -> Scripted:
        """A turn of the text editor tool: ``reply.edit("str_replace", "a.py", old_str=..., new_str=...)``."""
        return reply.tool_use("str_replace_based_edit_tool", {"command": command, "path": path, **arguments},
                              text=text, id=id)

    @staticmethod
    def edits(*calls: tuple[str, str, dict[str, Any]], text: str | None = None) -> Scripted:
        """Several text editor calls in one turn: ``reply.edits(("view", "a.py", {}), ...)``."""
        tool = "str_replace_based_edit_tool"
        blocks = ([block.text(text)] if text else []) + [
            block.tool_use(tool, {"command": c, "path": p, **kw}) for c, p, kw in calls]
        return Scripted("message", blocks, "tool_use")

    @staticmethod
    def error(status: int, *, error_type: str | None = None, message: str | None = None,
              retry_after: float | None = None, retry_after_ms: int | None = None) -> Scripted:
        headers: dict[str, str] = {}
        if retry_after is not None:
            headers["retry-after"] = f"{retry_after:g}"
        if retry_after_ms is not None:
            headers["retry-after-ms"] = str(retry_after_ms)
        kind = error_type or _ERROR_TYPES.get(status, "api_error")
        return Scripted("error", status=status, error_type=kind,
                        error_message=message or f"stub: scripted {status} {kind}", headers=headers)

    @staticmethod
    def truncated(text: str = "The first half of an answer that never", *, cut_after: int | None = None,
                  clean_eof: bool = False, tool_use: tuple[str, dict[str, Any]] | None = None) -> Scripted:
        """A stream cut before message_stop: a connection reset, or with ``clean_eof`` a body that
        simply ends. ``cut_after`` counts SSE events sent (default: mid-way through the content)."""
        blocks = [block.text(text)] + ([block.tool_use(*tool_use)] if tool_use else [])
        return Scripted("truncated", blocks, "tool_use" if tool_use else "end_turn", cut_after=cut_after,
                        clean_eof=clean_eof)

    @staticmethod
    def stream_error(error_type: str = "overloaded_error", *, text: str = "") -> Scripted:
        """An SSE ``error`` event after message_start (and some text, if given)."""
        return Scripted("stream_error", [block.text(text)] if text else [], error_type=error_type,
                        error_message=f"stub: {error_type} mid-stream")


# -- the server ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    raw: str
    body: dict[str, Any] | None

    @property
    def api_key(self) -> str | None:
        return api_key(self.headers)


class AnthropicStub:
    """The loopback Messages API server. Use as a context manager or via the pytest fixture."""

    def __init__(self, *, models: list[tuple[str, str]] | None = None, cache_min_tokens: int = 1024,
                 api_key: str | None = TEST_API_KEY) -> None:
        self.models = models if models is not None else list(DEFAULT_MODELS)
        self.cache_min_tokens = cache_min_tokens
        self.api_key = api_key
        self.requests: list[Recorded] = []
        self._queue: deque[Scripted] = deque()
        self._cache: set[str] = set()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="anthropic-stub", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> AnthropicStub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> AnthropicStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # scripting and inspection

    def script(self, *replies: Scripted) -> AnthropicStub:
        with self._lock:
            self._queue.extend(replies)
        return self

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def env(self) -> dict[str, str]:
        """Environment for a ``codeassist`` subprocess / CliRunner pointed at this server."""
        return {"ANTHROPIC_API_KEY": self.api_key or "unused", "ANTHROPIC_BASE_URL": self.url}

    def overrides(self) -> dict[str, Any]:
        """``load_settings(overrides=...)`` values for fast tests against this server."""
        return {"claude.base_url": self.url, "claude.retry_backoff": 0.01}

    def bodies(self, path: str = "/v1/messages") -> list[dict[str, Any]]:
        with self._lock:
            return [r.body for r in self.requests if r.path == path and r.body is not None]

    @property
    def message_requests(self) -> list[dict[str, Any]]:
        return self.bodies("/v1/messages")

    def received_text(self) -> str:
        """Everything that arrived (request lines, headers except the key, bodies), as one string."""
        with self._lock:
            parts = [f"{r.method} {r.path}\n{_visible_headers(r.headers)}\n{r.raw}" for r in self.requests]
        return "\n".join(parts)

    def assert_not_received(self, *needles: str) -> None:
        """Fail if any of ``needles`` arrived anywhere in any request (JSON escapes undone)."""
        seen = self.received_text()
        with self._lock:
            plain = "\n".join(_all_strings(r.body) for r in self.requests if r.body is not None)
        leaked = [n for n in needles if n in seen or n in plain]
        assert not leaked, f"secret(s) reached the API: {leaked!r}"

    # behaviour

    def _next(self) -> Scripted | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None

    def _record(self, rec: Recorded) -> None:
        with self._lock:
            self.requests.append(rec)

    def count(self, body: dict[str, Any]) -> int:
        """``count_tokens``: every input token of the request (nothing is cached by counting)."""
        return tokens("".join(s for s, _ in _segments(body)))

    def usage_for(self, body: dict[str, Any]) -> dict[str, int]:
        """Input usage of a request, with prompt caching emulated."""
        segments = _segments(body)
        total = tokens("".join(s for s, _ in segments))
        prefixes = []
        text = ""
        for seg, breakpoint in segments:
            text += seg
            if breakpoint and tokens(text) >= self.cache_min_tokens:
                prefixes.append(f"{body.get('model')}\n{text}")
        with self._lock:
            hits = [p for p in prefixes if p in self._cache]
            self._cache.update(prefixes)
        read = tokens(_prefix_text(hits[-1])) if hits else 0
        last = tokens(_prefix_text(prefixes[-1])) if prefixes else 0
        created = last - read if prefixes and prefixes[-1] not in hits else 0
        return {"input_tokens": max(0, total - read - created), "cache_read_input_tokens": read,
                "cache_creation_input_tokens": created}


def _prefix_text(prefix: str) -> str:
    return prefix.split("\n", 1)[1]


def _strip_cc(value: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in value.items() if k != "cache_control"}, sort_keys=True)


def _segments(body: dict[str, Any]) -> list[tuple[str, bool]]:
    """The cacheable request in order (tools, system, messages), with breakpoint marks."""
    out: list[tuple[str, bool]] = [(_strip_cc(t), "cache_control" in t) for t in body.get("tools") or []]
    system = body.get("system")
    if isinstance(system, str):
        out.append((system, False))
    elif isinstance(system, list):
        out.extend((_strip_cc(b), "cache_control" in b) for b in system)
    for message in body.get("messages") or []:
        content = message.get("content")
        if isinstance(content, str):
            out.append((f"{message.get('role')}:{content}", False))
        else:
            out.extend((f"{message.get('role')}:{_strip_cc(b)}", "cache_control" in b) for b in content or [])
    return out


def _all_strings(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "\n".join(_all_strings(v) for v in value.values())
    if isinstance(value, list):
        return "\n".join(_all_strings(v) for v in value)
    return ""


def _visible_headers(headers: dict[str, str]) -> str:
    hidden = ("x-api-key", "authorization")
    return "\n".join(f"{k}: {v}" for k, v in headers.items() if k.lower() not in hidden)


def _handler_for(stub: AnthropicStub) -> type[BaseHTTPRequestHandler]:
    return type("StubHandler", (Handler,), {"stub": stub})
