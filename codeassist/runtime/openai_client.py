"""The one module that speaks the OpenAI-compatible HTTP API (vLLM, SGLang, Ollama, LM Studio,
llama-swap, a LiteLLM gateway, or llama-server's own ``/v1`` routes).

Endpoints: ``/health`` (``/v1/models`` where there is none), ``/v1/models``, ``/v1/completions``
and ``/v1/chat/completions``, all generations streamed (closing the stream closes the request,
and the server stops generating).

- Completions are raw prompts on ``/v1/completions``: the engine's own prompt, or — for
  :meth:`OpenAIClient.infill` — the model's FIM tokens written into the prompt, when the model
  file is on this machine (``model.path``) and the server parses special tokens in prompts
  (probed once). Otherwise ``infill`` raises ``InfillUnsupportedError`` and the engine uses its
  FIM-less prompt (vLLM and SGLang reject ``suffix``).
- Token counts come from the model's own tokenizer when the model file is known, else from a
  characters-per-token ratio measured on this server's ``usage`` answers.
- llama-server's ``t_max_predict_ms`` (stop generating some time after the first newline) has no
  OpenAI equivalent: the client closes the stream itself when that time has passed.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import aclosing
from pathlib import Path
from typing import Any

import httpx

from codeassist.errors import InfillUnsupportedError, ModelError, ServerRequestError, ServerTimeoutError
from codeassist.runtime.backend import BackendOptions
from codeassist.runtime.params import ChatParams, Completion, CompletionParams, Sampling, Timings, TokenChoice
from codeassist.runtime.templates import MarkerFilter
from codeassist.runtime.transport import (
    Endpoint,
    HealthState,
    TextStream,
    health_from_status,
    map_transport_error,
    raise_for_status,
    send_retrying,
    sse_payloads,
)

__all__ = ["OpenAIClient", "create", "probe"]

log = logging.getLogger(__name__)

SERVER = "the OpenAI-compatible server"
_FINISH = {"stop": "eos", "length": "limit"}
_DEFAULT_CHARS_PER_TOKEN = 3.5


def _v1_root(url: str) -> str:
    """``http://h:8000`` and ``http://h:8000/v1`` both mean the same API."""
    return url if url.endswith("/v1") else url + "/v1"


def _server_root(url: str) -> str:
    return url[: -len("/v1")] if url.endswith("/v1") else url


def _sampling(s: Sampling) -> dict[str, Any]:
    body: dict[str, Any] = {"temperature": s.temperature, "top_p": s.top_p}
    if s.top_k > 0:
        body["top_k"] = s.top_k
    if s.min_p > 0:
        body["min_p"] = s.min_p
    if s.seed >= 0:
        body["seed"] = s.seed
    if s.repeat_penalty != 1.0:
        body["repetition_penalty"] = s.repeat_penalty
    return body


class OpenAIClient:
    """Async client of one OpenAI-compatible server. ``http`` may be shared (closed only if owned)."""

    kind = "openai"

    def __init__(self, endpoint: Endpoint, http: httpx.AsyncClient | None = None,
                 options: BackendOptions | None = None) -> None:
        self.endpoint = endpoint
        self.options = options or BackendOptions()
        self._owns_http = http is None
        self._http = http if http is not None else endpoint.new_http()
        self._model = self.options.model
        self._chars_per_token: float | None = None
        self._tokenizer: Any = None
        self._raw_special: bool | None = None

    @property
    def base_url(self) -> str:
        return self.endpoint.url

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> OpenAIClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # --- plumbing ----------------------------------------------------------------------------
    async def _get(self, url: str, path: str, timeout: float = 10.0) -> httpx.Response:
        try:
            return await self._http.get(url, headers=self.endpoint.headers,
                                        timeout=self.endpoint.http_timeout(timeout))
        except httpx.TransportError as exc:
            raise map_transport_error(exc, self.endpoint, path, server=SERVER) from exc

    async def _sse(self, path: str, body: dict[str, Any], timeout: float | None
                   ) -> AsyncGenerator[dict[str, Any], None]:
        url = _v1_root(self.endpoint.url) + path
        request = self._http.build_request("POST", url, json=body, headers=self.endpoint.headers,
                                           timeout=self.endpoint.http_timeout(timeout))
        try:
            response = await send_retrying(self._http, request, stream=True)
            try:
                if response.status_code >= 400:
                    text = (await response.aread()).decode("utf-8", "replace")
                    raise_for_status(response, text, "/v1" + path, self.endpoint, server=SERVER)
                async with aclosing(sse_payloads(response.aiter_lines())) as payloads:
                    async for payload in payloads:
                        if payload is None:
                            return
                        if payload.get("error"):
                            error = payload["error"]
                            message = error.get("message", error) if isinstance(error, dict) else error
                            raise ServerRequestError(f"{SERVER} at {self.base_url} failed during /v1{path}: "
                                                     f"{message}", status=500, body=str(payload)[:500])
                        yield payload
            finally:
                await response.aclose()
        except httpx.TransportError as exc:
            raise map_transport_error(exc, self.endpoint, "/v1" + path, server=SERVER) from exc

    # --- server state ------------------------------------------------------------------------
    async def health(self) -> HealthState:
        response = await self._get(_server_root(self.endpoint.url) + "/health", "/health", timeout=5.0)
        if response.status_code == 404:  # no /health route (some gateways): a model list will do
            response = await self._get(_v1_root(self.endpoint.url) + "/models", "/v1/models", timeout=5.0)
        if response.status_code in (401, 403):
            raise_for_status(response, response.text, "/health", self.endpoint, server=SERVER)
        return health_from_status(response.status_code)

    async def models(self) -> list[str]:
        """The model ids ``/v1/models`` lists."""
        response = await self._get(_v1_root(self.endpoint.url) + "/models", "/v1/models")
        raise_for_status(response, response.text, "/v1/models", self.endpoint, server=SERVER)
        try:
            data = response.json().get("data") or []
            return [str(m["id"]) for m in data if isinstance(m, dict) and "id" in m]
        except (ValueError, AttributeError) as exc:
            raise ServerRequestError(f"{self.base_url}/v1/models did not answer with a model list.",
                                     status=response.status_code, body=response.text[:500],
                                     hint="Is this an OpenAI-compatible server?") from exc

    async def model(self) -> str:
        """The model id sent with every request: ``server.model``, else the first one listed."""
        if not self._model:
            ids = await self.models()
            if not ids:
                raise ServerRequestError(f"{SERVER} at {self.base_url} lists no models.", status=200,
                                         hint="Load a model on the server, or set `server.model`.")
            self._model = ids[0]
        return self._model

    async def props(self) -> dict[str, Any]:
        """Like llama-server's ``/props`` as far as codeassist uses it. The server applies the chat
        template of its model, so chat is always available (``chat_template`` is true)."""
        return {"model": await self.model(), "model_path": self.options.model_path,
                "chat_template": "(applied by the server)", "api": self.kind}

    # --- tokens ------------------------------------------------------------------------------
    async def count_tokens(self, text: str) -> int:
        """Exact with the local model file (``model.path``), else a measured estimate."""
        tokenizer = await self._local_tokenizer()
        if tokenizer is not None:
            return int(tokenizer.count(text))
        if self._chars_per_token is None:
            await self._measure()
        return math.ceil(len(text) / (self._chars_per_token or _DEFAULT_CHARS_PER_TOKEN))

    async def _local_tokenizer(self) -> Any:
        if self._tokenizer is None and self.options.model_path and Path(self.options.model_path).is_file():
            from codeassist.runtime import gguf

            try:
                self._tokenizer = await asyncio.to_thread(gguf.Tokenizer, self.options.model_path)
            except (ModelError, ImportError) as exc:
                log.info("no local tokenizer for %s (%s); estimating", self.options.model_path, exc)
                self._tokenizer = False
        return self._tokenizer or None

    async def _measure(self) -> None:
        """One short request on a sample of code gives this server's characters per token."""
        sample = Path(__file__).read_text(encoding="utf-8")[:3000]
        await self.complete(sample, CompletionParams(n_predict=1, sampling=Sampling(temperature=0.0)))

    def _learn_ratio(self, prompt: str, usage: Mapping[str, Any] | None) -> None:
        tokens = int((usage or {}).get("prompt_tokens") or 0)
        if tokens > 0 and len(prompt) >= 200:
            ratio = len(prompt) / tokens
            old = self._chars_per_token
            self._chars_per_token = ratio if old is None else 0.8 * old + 0.2 * ratio

    @property
    def chars_per_token(self) -> float | None:
        """The measured ratio (None until a long enough prompt was answered)."""
        return self._chars_per_token

    # --- generation --------------------------------------------------------------------------
    def _completion_body(self, model: str, prompt: str, params: CompletionParams) -> dict[str, Any]:
        body: dict[str, Any] = {"model": model, "prompt": prompt, "max_tokens": params.n_predict,
                                "stream": True, "stream_options": {"include_usage": True},
                                **_sampling(params.sampling)}
        if params.stop:
            body["stop"] = list(params.stop)
        if params.ignore_eos:
            body["ignore_eos"] = True
        if params.n_probs > 0:
            body["logprobs"] = params.n_probs
        return body

    def stream_complete(self, prompt: str, params: CompletionParams | None = None) -> TextStream:
        done: list[Completion] = []
        return TextStream(self._completion_pieces(prompt, params or CompletionParams(), done), done)

    async def complete(self, prompt: str, params: CompletionParams | None = None) -> Completion:
        """The whole completion (streamed underneath, so cancelling stops the server at once)."""
        params = params or CompletionParams()
        deadline = params.timeout if params.timeout is not None else self.endpoint.timeout
        stream = self.stream_complete(prompt, params)
        try:
            async with asyncio.timeout(deadline), stream:
                async for _ in stream:
                    pass
        except TimeoutError as exc:
            raise ServerTimeoutError(
                f"{SERVER} at {self.base_url} did not finish a completion within {deadline:.1f} s.",
                hint="Generate fewer tokens, use a smaller model, or raise the timeout.") from exc
        if stream.result is None:  # pragma: no cover - the generator always records a result
            raise ServerRequestError(f"{SERVER} ended a completion without a result.", status=200)
        return stream.result

    async def _completion_pieces(self, prompt: str, params: CompletionParams, done: list[Completion]
                                 ) -> AsyncGenerator[str, None]:
        body = self._completion_body(await self.model(), prompt, params)
        parts: list[str] = []
        choices: list[TokenChoice] = []
        finish, usage, timings = "", None, None
        newline_at: float | None = None
        markers = MarkerFilter(chat=False)
        async with aclosing(self._sse("/completions", body, params.timeout)) as events:
            async for payload in events:
                usage = payload.get("usage") or usage
                timings = payload.get("timings") or timings
                for choice in payload.get("choices") or []:
                    choices += TokenChoice.from_openai(choice.get("logprobs"))
                    finish = str(choice.get("finish_reason") or finish)
                    piece = markers.feed(str(choice.get("text") or ""))
                    if finish:
                        piece += markers.flush()
                    if piece:
                        parts.append(piece)
                        yield piece
                        if "\n" in piece:
                            newline_at = newline_at or time.perf_counter()
                            if not finish and params.until is not None and params.until("".join(parts)):
                                finish = "done"
                if markers.done:  # a turn marker: the rest is not part of the completion
                    finish = "stop"
                    break
                if finish == "done":  # the caller has its answer: closing the stream stops the server
                    break
                if (params.t_max_predict_ms > 0 and newline_at is not None and not finish
                        and (time.perf_counter() - newline_at) * 1000 > params.t_max_predict_ms):
                    finish = "time"
                    break
        self._learn_ratio(prompt, usage)
        done.append(Completion(text="".join(parts), timings=_timings(timings, usage),
                               stop_type=_FINISH.get(finish, "limit" if finish == "time" else finish),
                               choices=tuple(choices)))

    async def infill(self, prefix: str, suffix: str, extra: Sequence[Mapping[str, str]] = (),
                     params: CompletionParams | None = None, *, prompt: str = "") -> Completion:
        """Fill in the middle with the model's FIM tokens written into a raw prompt."""
        fim = await self._fim_tokens()
        if fim is None or not await self._parses_special(fim.pre):
            raise InfillUnsupportedError(
                f"{SERVER} at {self.base_url} has no fill-in-the-middle endpoint, and the model's FIM "
                "tokens cannot be written into the prompt (model file unknown here, no FIM tokens, or "
                "the server does not parse special tokens).", status=501,
                hint="Completions use the prompt-built path instead; set `model.path` to the model file "
                     "to let codeassist use the model's FIM tokens.")
        text = fim.rep + "myproject\n" if fim.rep else ""
        for chunk in extra:
            text += (fim.sep + chunk["filename"] + "\n") if fim.sep else "\n\n--- snippet ---\n\n"
            text += chunk["text"]
        if fim.sep:
            text += fim.sep + "filename\n"
        text += fim.pre + prefix + prompt + fim.suf + suffix + fim.mid
        return await self.complete(text, params)

    async def _fim_tokens(self) -> Any:
        if not self.options.model_path or not Path(self.options.model_path).is_file():
            return None
        from codeassist.runtime import gguf

        try:
            return await asyncio.to_thread(gguf.fim_tokens, self.options.model_path)
        except (ModelError, ImportError) as exc:
            log.info("cannot read the FIM tokens of %s: %s", self.options.model_path, exc)
            return None

    async def _parses_special(self, token_text: str) -> bool:
        """Does the server read ``<|fim_prefix|>`` in a prompt as one token? (asked once)"""
        if self._raw_special is None:
            probe = CompletionParams(n_predict=1, sampling=Sampling(temperature=0.0))
            special = await self._prompt_tokens(token_text, probe)
            plain = await self._prompt_tokens("a", probe)
            self._raw_special = special == plain
            log.info("%s parses special tokens in prompts: %s", self.base_url, self._raw_special)
        return self._raw_special

    async def _prompt_tokens(self, prompt: str, params: CompletionParams) -> int:
        timings = (await self.complete(prompt, params)).timings
        return timings.prompt_n + timings.cache_n

    def stream_chat(self, messages: Sequence[Mapping[str, Any]], params: ChatParams | None = None
                    ) -> TextStream:
        """Answer text of a chat, streamed; thinking (``reasoning_content``) is left out."""
        done: list[Completion] = []
        return TextStream(self._chat_pieces(messages, params or ChatParams(), done), done)

    async def _chat_pieces(self, messages: Sequence[Mapping[str, Any]], params: ChatParams,
                           done: list[Completion]) -> AsyncGenerator[str, None]:
        body: dict[str, Any] = {"model": await self.model(), "messages": [dict(m) for m in messages],
                                "max_tokens": params.max_tokens, "stream": True,
                                "stream_options": {"include_usage": True},
                                "chat_template_kwargs": {"enable_thinking": params.think},
                                **_sampling(params.sampling)}
        if params.stop:
            body["stop"] = list(params.stop)
        parts: list[str] = []
        finish, usage, timings = "", None, None
        markers = MarkerFilter(think=params.think)
        async with aclosing(self._sse("/chat/completions", body, params.timeout)) as events:
            async for payload in events:
                usage = payload.get("usage") or usage
                timings = payload.get("timings") or timings
                for choice in payload.get("choices") or []:
                    piece = markers.feed(str((choice.get("delta") or {}).get("content") or ""))
                    if piece:
                        parts.append(piece)
                        yield piece
                    finish = str(choice.get("finish_reason") or finish)
                if markers.done:  # end of the turn, written out as text: stop generating
                    finish = finish or "stop"
                    break
        rest = markers.flush()
        if rest:
            parts.append(rest)
            yield rest
        done.append(Completion(text="".join(parts), timings=_timings(timings, usage),
                               stop_type=_FINISH.get(finish, finish)))


def _timings(timings: Mapping[str, Any] | None, usage: Mapping[str, Any] | None) -> Timings:
    """llama-server adds its own ``timings``; other servers give only ``usage``."""
    if timings:
        return Timings.from_json(timings)
    usage = usage or {}
    details = usage.get("prompt_tokens_details") or {}
    cached = int(details.get("cached_tokens") or 0) if isinstance(details, Mapping) else 0
    return Timings(prompt_n=max(0, int(usage.get("prompt_tokens") or 0) - cached), cache_n=cached,
                   predicted_n=int(usage.get("completion_tokens") or 0))


def create(endpoint: Endpoint, http: httpx.AsyncClient | None, options: BackendOptions) -> OpenAIClient:
    """The backend factory registered as ``openai`` (see :mod:`codeassist.runtime.backend`)."""
    return OpenAIClient(endpoint, http, options)


async def probe(http: httpx.AsyncClient, endpoint: Endpoint) -> bool:
    """Does ``endpoint`` speak the OpenAI API? (``/v1/models`` answers a model list)."""
    url = _v1_root(endpoint.url) + "/models"
    try:
        response = await http.get(url, headers=endpoint.headers, timeout=endpoint.http_timeout(10.0))
    except httpx.TransportError as exc:
        raise map_transport_error(exc, endpoint, "/v1/models", server=SERVER) from exc
    if response.status_code in (401, 403):
        raise_for_status(response, response.text, "/v1/models", endpoint, server=SERVER)
    if response.status_code != 200:
        return False
    try:
        data = response.json()
    except ValueError:
        return False
    return isinstance(data, dict) and isinstance(data.get("data"), list)
