"""The one module that speaks HTTP to llama-server (httpx, async).

Endpoints: ``/health``, ``/props``, ``/slots``, ``/tokenize``, ``/completion`` (plain and
streamed), ``/infill`` and the OpenAI-compatible ``/v1/chat/completions`` (streamed).

Request options are small frozen value objects (:class:`Sampling`, :class:`CompletionParams`,
:class:`ChatParams`). httpx errors are mapped into :mod:`codeassist.errors`:

- connection refused / dropped        -> ``ServerUnavailableError``
- 503 (model still loading)           -> ``ServerUnavailableError``
- timeout                             -> ``ServerTimeoutError``
- 501 from ``/infill``                -> ``InfillUnsupportedError``
- any other HTTP error answer         -> ``ServerRequestError`` (status, body)

No turn marker of any chat template reaches a caller: every generated text goes through a
:class:`~codeassist.runtime.templates.MarkerFilter`; an end-of-turn marker ends the generation.

Cancellation: closing a stream (``aclose()``, leaving ``async with``) or cancelling the task that
awaits a request closes the HTTP connection; llama-server notices and stops generating, which
frees its slot.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, aclosing, asynccontextmanager
from types import TracebackType
from typing import Any, Literal

import httpx

from codeassist.errors import (
    InfillUnsupportedError,
    ServerRequestError,
    ServerTimeoutError,
    ServerUnavailableError,
)
from codeassist.runtime.params import ChatParams, Completion, CompletionParams, Sampling, Timings
from codeassist.runtime.templates import MarkerFilter

__all__ = [
    "ChatParams",
    "Completion",
    "CompletionParams",
    "HealthState",
    "LlamaClient",
    "Sampling",
    "TextStream",
    "Timings",
    "probe_health",
]

log = logging.getLogger(__name__)

HealthState = Literal["ok", "loading", "unreachable", "error"]
_CONNECT_TIMEOUT = 5.0


def _error_message(response: httpx.Response, body: str) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip()[:500]
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        return str(data["error"].get("message", body))[:500]
    return body.strip()[:500]


def _raise_for_status(response: httpx.Response, body: str, path: str) -> None:
    status = response.status_code
    if status < 400:
        return
    message = _error_message(response, body)
    if status == 501 and path == "/infill":
        raise InfillUnsupportedError(
            f"The model on this server cannot fill in the middle: {message}",
            status=status, body=body,
            hint="Use the prompt-built completion on /completion for this model (Gemma has no FIM tokens).",
        )
    if status == 503:
        raise ServerUnavailableError(
            f"llama-server is not ready yet ({message}).",
            hint="Wait until the model has loaded; `codeassist server status` shows its state.",
        )
    raise ServerRequestError(
        f"llama-server answered {path} with HTTP {status}: {message}",
        status=status, body=body,
        hint="Check the request options; `codeassist server logs` shows the server's side.",
    )


def _map_transport_error(exc: httpx.TransportError, base_url: str, path: str) -> Exception:
    if isinstance(exc, httpx.TimeoutException):
        return ServerTimeoutError(
            f"llama-server at {base_url} did not answer {path} in time ({type(exc).__name__}).",
            hint="The model may be too slow for this machine: use a smaller model or quantisation, "
                 "or raise the timeout.",
        )
    return ServerUnavailableError(
        f"Cannot reach llama-server at {base_url} ({type(exc).__name__}: {exc}).",
        hint="Start it with `codeassist server start`, or check `server.url` in your config.",
    )


class TextStream(AbstractAsyncContextManager["TextStream"]):
    """Text pieces of a streamed generation; an async iterator and an async context manager.

    After the stream ended, :attr:`result` holds the whole :class:`Completion` (with timings).
    Closing it early (``aclose()``, ``break`` inside ``async with``, cancelling the consuming task)
    closes the HTTP connection, and llama-server stops generating.
    """

    def __init__(self, pieces: AsyncGenerator[str, None], on_done: list[Completion]) -> None:
        self._pieces = pieces
        self._done = on_done

    @property
    def result(self) -> Completion | None:
        return self._done[0] if self._done else None

    def __aiter__(self) -> TextStream:
        return self

    async def __anext__(self) -> str:
        return await self._pieces.__anext__()

    async def aclose(self) -> None:
        await self._pieces.aclose()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None,
    ) -> None:
        await self.aclose()


async def _sse_payloads(lines: AsyncIterator[str]) -> AsyncGenerator[dict[str, Any] | None, None]:
    """JSON payloads of ``data:`` lines; ``None`` for ``[DONE]``. Comments/pings are skipped."""
    async for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            yield None
            return
        try:
            payload = json.loads(data)
        except ValueError:
            log.warning("llama-server sent a malformed stream event: %.200s", data)
            continue
        if isinstance(payload, dict):
            yield payload


class LlamaClient:
    """Async client of one llama-server. ``http`` may be shared; it is closed only if owned."""

    def __init__(self, base_url: str, http: httpx.AsyncClient | None = None, *,
                 timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = httpx.Timeout(timeout, connect=_CONNECT_TIMEOUT)
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=self._timeout)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> LlamaClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _timeout_for(self, seconds: float | None) -> httpx.Timeout:
        return self._timeout if seconds is None else httpx.Timeout(seconds, connect=_CONNECT_TIMEOUT)

    async def _send(self, request: httpx.Request, *, stream: bool) -> httpx.Response:
        """Send ``request``, once more if llama-server had closed the kept-alive connection.

        llama-server may close an idle connection just as it is reused; the request then fails
        with "disconnected without sending a response" before the server has seen it, so it is
        safe to send it again, on a fresh connection.
        """
        try:
            return await self._http.send(request, stream=stream)
        except httpx.RemoteProtocolError:
            log.debug("llama-server closed a kept-alive connection; sending %s again", request.url.path)
            return await self._http.send(request, stream=stream)

    @asynccontextmanager
    async def _post_streamed(self, path: str, body: dict[str, Any], timeout: float | None
                             ) -> AsyncIterator[httpx.Response]:
        request = self._http.build_request("POST", self.base_url + path, json=body,
                                           timeout=self._timeout_for(timeout))
        response = await self._send(request, stream=True)
        try:
            yield response
        finally:
            await response.aclose()

    async def _request(self, method: str, path: str, body: Mapping[str, Any] | None = None,
                       timeout: float | None = None) -> Any:
        try:
            request = self._http.build_request(method, self.base_url + path, json=body,
                                               timeout=self._timeout_for(timeout))
            response = await self._send(request, stream=False)
        except httpx.TransportError as exc:
            raise _map_transport_error(exc, self.base_url, path) from exc
        _raise_for_status(response, response.text, path)
        try:
            return response.json()
        except ValueError as exc:
            raise ServerRequestError(
                f"llama-server answered {path} with something that is not JSON.",
                status=response.status_code, body=response.text[:500],
                hint=f"Is {self.base_url} really a llama-server?",
            ) from exc

    # --- server state --------------------------------------------------------------------
    async def health(self) -> HealthState:
        """``ok`` when the model is loaded, ``loading`` while it loads; raises when unreachable."""
        try:
            response = await self._http.get(self.base_url + "/health", timeout=self._timeout_for(5.0))
        except httpx.TransportError as exc:
            raise _map_transport_error(exc, self.base_url, "/health") from exc
        return _health_from_status(response.status_code)

    async def props(self) -> dict[str, Any]:
        data = await self._request("GET", "/props")
        return dict(data)

    async def slots(self) -> list[dict[str, Any]]:
        """Per-slot state (``is_processing`` etc.); needs the server's default ``--slots``."""
        data = await self._request("GET", "/slots")
        return list(data)

    async def tokenize(self, text: str, *, add_special: bool = False) -> list[int]:
        data = await self._request("POST", "/tokenize", {"content": text, "add_special": add_special})
        return [int(t) for t in data.get("tokens", [])]

    # --- generation ----------------------------------------------------------------------
    async def complete(self, prompt: str, params: CompletionParams | None = None) -> Completion:
        """The whole completion. ``params.timeout`` (else the client's) bounds the whole request."""
        params = params or CompletionParams()
        return await self._collect("/completion", {"prompt": prompt, **params.to_json()}, params.timeout)

    def stream_complete(self, prompt: str, params: CompletionParams | None = None) -> TextStream:
        params = params or CompletionParams()
        body = {"prompt": prompt, "stream": True, **params.to_json()}
        return self._stream_completion("/completion", body, params.timeout)

    async def infill(self, prefix: str, suffix: str, extra: Sequence[Mapping[str, str]] = (),
                     params: CompletionParams | None = None, *, prompt: str = "") -> Completion:
        """Fill in the middle (``/infill``). ``extra``: ``{"filename", "text"}`` chunks of context.

        Raises :class:`InfillUnsupportedError` when the model has no FIM tokens.
        """
        params = params or CompletionParams()
        body = {"input_prefix": prefix, "input_suffix": suffix,
                "input_extra": [{"filename": e["filename"], "text": e["text"]} for e in extra],
                "prompt": prompt, **params.to_json()}
        return await self._collect("/infill", body, params.timeout)

    async def _collect(self, path: str, body: dict[str, Any], timeout: float | None) -> Completion:
        """Run a generation streamed and gather it.

        Streamed, llama-server checks for a closed connection before every token, so cancelling
        the awaiting task stops generation at once; a plain request is noticed only much later.
        """
        deadline = timeout if timeout is not None else (self._timeout.read or 60.0)
        stream = self._stream_completion(path, {**body, "stream": True}, timeout)
        try:
            async with asyncio.timeout(deadline), stream:
                async for _ in stream:
                    pass
        except TimeoutError as exc:
            raise ServerTimeoutError(
                f"llama-server at {self.base_url} did not finish {path} within {deadline:.1f} s.",
                hint="Generate fewer tokens, use a smaller model, or raise the timeout.",
            ) from exc
        if stream.result is None:
            raise ServerRequestError(f"llama-server ended {path} without its final result.",
                                     status=200, hint="`codeassist server logs` shows the server's side.")
        return stream.result

    def stream_chat(self, messages: Sequence[Mapping[str, Any]], params: ChatParams | None = None
                    ) -> TextStream:
        """Answer text of an OpenAI-style chat, streamed; thinking text is left out."""
        params = params or ChatParams()
        body = {"messages": [dict(m) for m in messages], "stream": True,
                "stream_options": {"include_usage": True}, **params.to_json()}
        done: list[Completion] = []
        return TextStream(self._chat_pieces(body, params.timeout, done, MarkerFilter(think=params.think)),
                          done)

    def _stream_completion(self, path: str, body: dict[str, Any], timeout: float | None) -> TextStream:
        done: list[Completion] = []
        return TextStream(self._completion_pieces(path, body, timeout, done), done)

    async def _completion_pieces(self, path: str, body: dict[str, Any], timeout: float | None,
                                 done: list[Completion]) -> AsyncGenerator[str, None]:
        parts: list[str] = []
        markers = MarkerFilter(chat=False)
        async with aclosing(self._sse(path, body, timeout)) as events:
            async for payload in events:
                if payload is None:
                    break
                piece = markers.feed(str(payload.get("content", "")))
                if payload.get("stop"):
                    piece += markers.flush()
                if piece:
                    parts.append(piece)
                    yield piece
                if markers.done:  # a turn marker: the rest is not part of the completion
                    done.append(Completion.from_json({**payload, "stop_type": "word",
                                                      "stopping_word": markers.stopped_by},
                                                     text="".join(parts)))
                    return
                if payload.get("stop"):
                    done.append(Completion.from_json(payload, text="".join(parts)))
                    return

    async def _chat_pieces(self, body: dict[str, Any], timeout: float | None,
                           done: list[Completion], markers: MarkerFilter) -> AsyncGenerator[str, None]:
        parts: list[str] = []
        last: dict[str, Any] = {}
        async with aclosing(self._sse("/v1/chat/completions", body, timeout)) as events:
            async for payload in events:
                if payload is None:
                    break
                last = payload
                for choice in payload.get("choices") or []:
                    piece = markers.feed(str((choice.get("delta") or {}).get("content") or ""))
                    if piece:
                        parts.append(piece)
                        yield piece
                if markers.done:  # end of the turn, written out as text: stop generating
                    break
        rest = markers.flush()
        if rest:
            parts.append(rest)
            yield rest
        done.append(Completion(text="".join(parts), timings=Timings.from_json(last.get("timings")),
                               stop_type="eos"))

    async def _sse(self, path: str, body: dict[str, Any], timeout: float | None
                   ) -> AsyncGenerator[dict[str, Any] | None, None]:
        try:
            async with self._post_streamed(path, body, timeout) as resp:
                if resp.status_code >= 400:
                    text = (await resp.aread()).decode("utf-8", "replace")
                    _raise_for_status(resp, text, path)
                async with aclosing(_sse_payloads(resp.aiter_lines())) as payloads:
                    async for payload in payloads:
                        if payload is not None and isinstance(payload.get("error"), dict):
                            message = str(payload["error"].get("message", payload["error"]))
                            raise ServerRequestError(
                                f"llama-server failed during {path}: {message}",
                                status=int(payload["error"].get("code", 500)), body=json.dumps(payload),
                            )
                        yield payload
        except httpx.TransportError as exc:
            raise _map_transport_error(exc, self.base_url, path) from exc


def _health_from_status(status: int) -> HealthState:
    if status == 200:
        return "ok"
    if status == 503:
        return "loading"
    return "error"


def probe_health(base_url: str, timeout: float = 2.0) -> HealthState:
    """Blocking health probe for process management (``server start`` waits on it)."""
    try:
        response = httpx.get(base_url.rstrip("/") + "/health", timeout=timeout)
    except httpx.TransportError:
        return "unreachable"
    return _health_from_status(response.status_code)
