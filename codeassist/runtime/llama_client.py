"""The one module that speaks llama-server's native HTTP API (httpx, async).

Endpoints: ``/health``, ``/props``, ``/slots``, ``/tokenize``, ``/completion`` (plain and
streamed), ``/infill`` and the OpenAI-compatible ``/v1/chat/completions`` (streamed).

Request options are small frozen value objects (:class:`Sampling`, :class:`CompletionParams`,
:class:`ChatParams`). httpx errors are mapped into :mod:`codeassist.errors` by
:mod:`codeassist.runtime.transport` (which also holds the key and the CA of the endpoint); on top:

- 501 from ``/infill``                -> ``InfillUnsupportedError``

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
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from contextlib import aclosing, asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx

from codeassist.errors import InfillUnsupportedError, ServerRequestError, ServerTimeoutError
from codeassist.runtime.params import ChatParams, Completion, CompletionParams, Sampling, Timings, TokenChoice
from codeassist.runtime.templates import MarkerFilter
from codeassist.runtime.transport import (
    Endpoint,
    HealthState,
    TextStream,
    error_message,
    health_from_status,
    map_transport_error,
    raise_for_status,
    send_retrying,
    sse_payloads,
)

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


def _raise_for_status(response: httpx.Response, body: str, path: str, endpoint: Endpoint) -> None:
    if response.status_code == 501 and path == "/infill":
        raise InfillUnsupportedError(
            f"The model on this server cannot fill in the middle: {error_message(body)}",
            status=501, body=body,
            hint="Use the prompt-built completion on /completion for this model (Gemma has no FIM tokens).",
        )
    raise_for_status(response, body, path, endpoint)


class LlamaClient:
    """Async client of one llama-server. ``http`` may be shared; it is closed only if owned.

    ``api_key`` is sent as a Bearer token (llama-server's ``--api-key``); ``ca_bundle`` is the CA
    to trust for ``https://`` URLs. Or pass a whole :class:`Endpoint` as ``endpoint``.
    """

    kind = "llama"

    def __init__(self, base_url: str = "", http: httpx.AsyncClient | None = None, *,
                 timeout: float = 60.0, api_key: str = "", ca_bundle: str = "",
                 endpoint: Endpoint | None = None) -> None:
        self.endpoint = endpoint or Endpoint(base_url, api_key=api_key, ca_bundle=ca_bundle, timeout=timeout)
        self.base_url = self.endpoint.url
        self._timeout = self.endpoint.http_timeout()
        self._owns_http = http is None
        self._http = http if http is not None else self.endpoint.new_http()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> LlamaClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _timeout_for(self, seconds: float | None) -> httpx.Timeout:
        return self._timeout if seconds is None else self.endpoint.http_timeout(seconds)

    async def _send(self, request: httpx.Request, *, stream: bool) -> httpx.Response:
        return await send_retrying(self._http, request, stream=stream)

    @asynccontextmanager
    async def _post_streamed(self, path: str, body: dict[str, Any], timeout: float | None
                             ) -> AsyncIterator[httpx.Response]:
        request = self._http.build_request("POST", self.base_url + path, json=body,
                                           headers=self.endpoint.headers, timeout=self._timeout_for(timeout))
        response = await self._send(request, stream=True)
        try:
            yield response
        finally:
            await response.aclose()

    async def _request(self, method: str, path: str, body: Mapping[str, Any] | None = None,
                       timeout: float | None = None) -> Any:
        try:
            request = self._http.build_request(method, self.base_url + path, json=body,
                                               headers=self.endpoint.headers,
                                               timeout=self._timeout_for(timeout))
            response = await self._send(request, stream=False)
        except httpx.TransportError as exc:
            raise map_transport_error(exc, self.endpoint, path) from exc
        _raise_for_status(response, response.text, path, self.endpoint)
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
            response = await self._http.get(self.base_url + "/health", headers=self.endpoint.headers,
                                            timeout=self._timeout_for(5.0))
        except httpx.TransportError as exc:
            raise map_transport_error(exc, self.endpoint, "/health") from exc
        if response.status_code in (401, 403):
            raise_for_status(response, response.text, "/health", self.endpoint)
        return health_from_status(response.status_code)

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

    async def count_tokens(self, text: str) -> int:
        return len(await self.tokenize(text))

    # --- generation ----------------------------------------------------------------------
    async def complete(self, prompt: str, params: CompletionParams | None = None) -> Completion:
        """The whole completion. ``params.timeout`` (else the client's) bounds the whole request."""
        params = params or CompletionParams()
        return await self._collect("/completion", {"prompt": prompt, **params.to_json()}, params.timeout,
                                   params.until)

    def stream_complete(self, prompt: str, params: CompletionParams | None = None) -> TextStream:
        params = params or CompletionParams()
        body = {"prompt": prompt, "stream": True, **params.to_json()}
        return self._stream_completion("/completion", body, params.timeout, params.until)

    async def infill(self, prefix: str, suffix: str, extra: Sequence[Mapping[str, str]] = (),
                     params: CompletionParams | None = None, *, prompt: str = "") -> Completion:
        """Fill in the middle (``/infill``). ``extra``: ``{"filename", "text"}`` chunks of context.

        Raises :class:`InfillUnsupportedError` when the model has no FIM tokens.
        """
        params = params or CompletionParams()
        body = {"input_prefix": prefix, "input_suffix": suffix,
                "input_extra": [{"filename": e["filename"], "text": e["text"]} for e in extra],
                "prompt": prompt, **params.to_json()}
        return await self._collect("/infill", body, params.timeout, params.until)

    async def _collect(self, path: str, body: dict[str, Any], timeout: float | None,
                       until: Callable[[str], bool] | None = None) -> Completion:
        """Run a generation streamed and gather it.

        Streamed, llama-server checks for a closed connection before every token, so cancelling
        the awaiting task stops generation at once; a plain request is noticed only much later.
        """
        deadline = timeout if timeout is not None else (self._timeout.read or 60.0)
        stream = self._stream_completion(path, {**body, "stream": True}, timeout, until)
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

    def _stream_completion(self, path: str, body: dict[str, Any], timeout: float | None,
                           until: Callable[[str], bool] | None = None) -> TextStream:
        done: list[Completion] = []
        return TextStream(self._completion_pieces(path, body, timeout, done, until), done)

    async def _completion_pieces(self, path: str, body: dict[str, Any], timeout: float | None,
                                 done: list[Completion], until: Callable[[str], bool] | None
                                 ) -> AsyncGenerator[str, None]:
        parts: list[str] = []
        choices: list[TokenChoice] = []
        markers = MarkerFilter(chat=False)

        def result(payload: dict[str, Any], **fields: str) -> Completion:
            answer = Completion.from_json({**payload, **fields}, text="".join(parts))
            return replace(answer, choices=tuple(choices))

        async with aclosing(self._sse(path, body, timeout)) as events:
            async for payload in events:
                if payload is None:
                    break
                choices += [TokenChoice.from_llama(e) for e in payload.get("completion_probabilities") or []]
                piece = markers.feed(str(payload.get("content", "")))
                if payload.get("stop"):
                    piece += markers.flush()
                if piece:
                    parts.append(piece)
                    yield piece
                if markers.done:  # a turn marker: the rest is not part of the completion
                    done.append(result(payload, stop_type="word", stopping_word=markers.stopped_by))
                    return
                if (until is not None and "\n" in piece and not payload.get("stop")
                        and until("".join(parts))):  # complete: closing the stream stops the server
                    done.append(result(payload, stop_type="done"))
                    return
                if payload.get("stop"):
                    done.append(result(payload))
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
                    _raise_for_status(resp, text, path, self.endpoint)
                async with aclosing(sse_payloads(resp.aiter_lines())) as payloads:
                    async for payload in payloads:
                        if payload is not None and isinstance(payload.get("error"), dict):
                            message = str(payload["error"].get("message", payload["error"]))
                            raise ServerRequestError(
                                f"llama-server failed during {path}: {message}",
                                status=int(payload["error"].get("code", 500)), body=json.dumps(payload),
                            )
                        yield payload
        except httpx.TransportError as exc:
            raise map_transport_error(exc, self.endpoint, path) from exc


def probe_health(base_url: str, timeout: float = 2.0, *, endpoint: Endpoint | None = None) -> HealthState:
    """Blocking health probe for process management (``server start`` waits on it)."""
    endpoint = endpoint or Endpoint(base_url)
    try:
        response = httpx.get(endpoint.url + "/health", timeout=timeout, headers=endpoint.headers,
                             verify=endpoint.verify)
    except httpx.TransportError:
        return "unreachable"
    return health_from_status(response.status_code)


def create(endpoint: Endpoint, http: httpx.AsyncClient | None, options: object) -> LlamaClient:
    """The backend factory registered as ``llama`` (see :mod:`codeassist.runtime.backend`)."""
    return LlamaClient(endpoint=endpoint, http=http)


async def probe(http: httpx.AsyncClient, endpoint: Endpoint) -> bool:
    """Does ``endpoint`` speak llama-server's native API? (``/props`` with its known fields)."""
    try:
        response = await http.get(endpoint.url + "/props", headers=endpoint.headers,
                                  timeout=endpoint.http_timeout(10.0))
    except httpx.TransportError as exc:
        raise map_transport_error(exc, endpoint, "/props") from exc
    if response.status_code in (401, 403):
        raise_for_status(response, response.text, "/props", endpoint)
    if response.status_code != 200:
        return False
    try:
        data = response.json()
    except ValueError:
        return False
    return isinstance(data, dict) and ("default_generation_settings" in data or "model_path" in data)
