"""Request bodies for the Messages API, and restoring replies.

Pure functions over plain dicts. :func:`build_request` lays a :class:`Prompt` out as a body; the
client has the privacy guard seal it (:meth:`codeassist.privacy.PrivacyGuard.seal`) and sends only
the sealed form.
The stable prefix (tools, system, context) carries a ``cache_control`` breakpoint; with tools in
play the last message block carries one too, so each turn of a tool loop reads the previous
turns from the cache.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from codeassist.claude.datatypes import Prompt, Usage
from codeassist.privacy.guard import PrivacyGuard

__all__ = [
    "build_request",
    "error_message",
    "error_type",
    "restore_value",
    "retry_after_seconds",
    "token_bound",
    "usage_from",
]

_EPHEMERAL = {"type": "ephemeral"}


def build_request(prompt: Prompt) -> dict[str, Any]:
    """``system``, ``messages`` and ``tools`` arguments with cache breakpoints (not yet redacted)."""
    params: dict[str, Any] = {"messages": [_message(m) for m in prompt.messages]}
    system: list[dict[str, Any]] = [
        {"type": "text", "text": part} for part in (prompt.system, prompt.context) if part]
    if system:
        system[-1]["cache_control"] = dict(_EPHEMERAL)
        params["system"] = system
    if prompt.tools:
        params["tools"] = [dict(tool) for tool in prompt.tools]
        _mark_last_block(params["messages"])
    return params


def token_bound(params: Mapping[str, Any]) -> int:
    """A generous upper bound of a built request's input tokens, without asking the API (one token
    per 2.5 characters of the request; Claude's tokenizers average 3.5 or more on code and prose)."""
    return int(len(json.dumps(params, ensure_ascii=False)) / 2.5) + 16


def _message(message: Mapping[str, Any]) -> dict[str, Any]:
    content = message.get("content", "")
    if isinstance(content, str):
        return {"role": message["role"], "content": content}
    return {"role": message["role"], "content": [copy.deepcopy(dict(b)) for b in content]}


def _mark_last_block(messages: list[dict[str, Any]]) -> None:
    if not messages:
        return
    last = messages[-1]
    if isinstance(last["content"], str):
        last["content"] = [{"type": "text", "text": last["content"]}]
    if last["content"]:
        last["content"][-1] = {**last["content"][-1], "cache_control": dict(_EPHEMERAL)}


def _map_strings(value: Any, fn: Any) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, Mapping):
        return {k: _map_strings(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_strings(v, fn) for v in value]
    return copy.copy(value)


def restore_value(value: Any, guard: PrivacyGuard) -> Any:
    """Every string inside ``value`` with this guard's placeholders mapped back."""
    return _map_strings(value, guard.restore)


def usage_from(raw: Any) -> Usage:
    """:class:`Usage` from the SDK's usage object (missing counts are 0)."""
    return Usage(
        input_tokens=int(getattr(raw, "input_tokens", 0) or 0),
        output_tokens=int(getattr(raw, "output_tokens", 0) or 0),
        cache_read_tokens=int(getattr(raw, "cache_read_input_tokens", 0) or 0),
        cache_write_tokens=int(getattr(raw, "cache_creation_input_tokens", 0) or 0),
    )


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The server's ``retry-after-ms`` / ``retry-after`` (seconds) hint, if any."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is not None:
            try:
                return float(value) * scale
            except ValueError:
                continue
    return None


def error_type(body: object) -> str:
    """``error.type`` of an API error body (``overloaded_error``...), or ``""``."""
    error = body.get("error") if isinstance(body, dict) else None
    return str(error.get("type", "")) if isinstance(error, dict) else ""


def error_message(body: object, default: str) -> str:
    """``error.message`` of an API error body, else ``default``."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    return default
