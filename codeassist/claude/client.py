"""The Claude client: the one module that talks to the Anthropic Messages API (``anthropic`` SDK).

Every call goes through the same gate, so no caller can forget a step:

1. privacy — ``privacy.cloud = false`` / ``--offline`` refuses before anything is sent; every
   body goes through the privacy guard's one egress point (:meth:`PrivacyGuard.seal`: every string
   redacted, then sealed) and only the sealed form reaches the SDK (:meth:`PrivacyGuard.release`
   checks the seal); replies are restored; each request is audited in the ledger (redacted);
2. budget — when a cost limit applies, ``count_tokens`` gives an upper-bound estimate first and
   :class:`~codeassist.errors.CostLimitError` stops the call above it;
3. one streamed turn — retried with exponential backoff on 429/529/5xx, timeouts and connection
   errors (``claude.max_retries``, ``claude.retry_backoff``; ``retry-after`` honoured), then
   :class:`~codeassist.errors.CloudUnavailableError`; a stream cut short raises
   :class:`~codeassist.errors.CloudResponseError`, never a partial reply;
4. ledger — tokens (cache reads and writes included) and dollars recorded per call.

The SDK's own retry loop is switched off so that one policy, configured in one place, decides.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
from collections.abc import AsyncGenerator, Callable
from dataclasses import replace
from typing import Any, NoReturn
from urllib.parse import urlparse

import anthropic
import httpx
import httpx2

from codeassist import config
from codeassist.claude import pricing
from codeassist.claude.datatypes import CostEstimate, Prompt, Reply, ToolUse, Usage
from codeassist.claude.ledger import CallRecord, EgressRecord, Ledger
from codeassist.claude.payload import (
    build_request,
    error_message,
    error_type,
    restore_value,
    retry_after_seconds,
    token_bound,
    usage_from,
)
from codeassist.claude.retry import (
    RETRY_STATUS,
    RETRY_STREAM_ERRORS,
    TRANSPORT_ERRORS,
    Retryable,
    RetryPolicy,
)
from codeassist.config import Settings
from codeassist.errors import (
    Cancelled,
    CloudAuthError,
    CloudError,
    CloudResponseError,
    ConfigError,
    CostLimitError,
    RequestShown,
)
from codeassist.privacy.guard import GuardedRequest, PrivacyGuard, StreamRestorer

log = logging.getLogger(__name__)

__all__ = ["ClaudeClient"]

DEFAULT_BASE_URL = "https://api.anthropic.com"
LOCAL_PLACEHOLDER_KEY = "local-no-key"


class ClaudeClient:
    """Claude through the official SDK, behind the privacy guard, the budget and the ledger.

    ``local=True`` points the same protocol at the local llama-server's ``/v1/messages``
    (``base_url`` = the server's URL): no key is needed, the privacy switch does not apply (nothing
    leaves the machine), and calls cost nothing.
    """

    def __init__(
        self,
        settings: Settings,
        ledger: Ledger,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        local: bool = False,
        command: str = "claude",
        max_cost: float | None = None,
        http: httpx2.Client | None = None,
        guard: PrivacyGuard | None = None,
        show_request: Callable[[str], None] | None = None,
    ) -> None:
        """``http``: the ``httpx2`` client the SDK sends with (a transport of the caller's, a proxy...);
        it may be shared and is closed only by its owner. Default: the SDK's own."""
        self.settings = settings
        self._http = http
        self.ledger = ledger
        self.local = local
        self.command = command
        self.max_cost = settings.claude.max_cost if max_cost is None else max_cost
        self.guard = guard or PrivacyGuard.from_settings(settings)
        self.show_request = show_request  # set: print the redacted body instead of sending it
        self.base_url = base_url or self._default_base_url(settings, local)
        self._api_key = api_key
        self._model = settings.claude.model or None
        self._sdk: anthropic.Anthropic | None = None
        self._lock = threading.Lock()
        self._spent = 0.0
        self._budget_base = 0.0  # what was spent when the current budget (refactor, answer) began
        self._retry = RetryPolicy(settings.claude.max_retries, settings.claude.retry_backoff)

    @staticmethod
    def _default_base_url(settings: Settings, local: bool) -> str:
        if not local:
            return settings.claude.base_url or DEFAULT_BASE_URL
        if not settings.server.url:  # never fall back to the cloud endpoint in local mode
            raise ConfigError("Local mode needs the llama-server URL, and none was given.",
                              hint="Start it with `codeassist server start`, or set server.url.")
        return settings.server.url[0]

    # -- public API -------------------------------------------------------------------------

    @property
    def spent_usd(self) -> float:
        """Dollars spent by this client so far."""
        with self._lock:
            return self._spent

    def new_budget(self) -> None:
        """Start a new budget: ``max_cost`` limits what is spent from now on (one refactor, one
        chat answer), not what this client spent before."""
        with self._lock:
            self._budget_base = self._spent

    @property
    def model_id(self) -> str | None:
        """The model id if configured or already resolved; None before the first resolution."""
        return self._model

    def resolve_model(self) -> str:
        """The model id: ``claude.model`` if set, else the newest Sonnet of ``models.list()``."""
        if self._model is None:
            self._model = self._call(self._newest_model)
            log.info("Using model %s (from the API's model list).", self._model)
        return self._model

    def seal(self, prompt: Prompt) -> GuardedRequest:
        """``prompt`` as the privacy guard lets it leave: redacted and sealed."""
        return self.guard.seal(build_request(prompt), prompt.files)

    def count_tokens(self, prompt: Prompt | GuardedRequest) -> int:
        request = prompt if isinstance(prompt, GuardedRequest) else self.seal(prompt)
        if self.show_request is not None:
            self._show(request, None, None)
        model = self.resolve_model()
        result = self._call(lambda sdk: sdk.messages.count_tokens(**self.guard.release(request, model=model)))
        self._audit(request, "count_tokens", model, "ok", Usage(input_tokens=int(result.input_tokens)), 0.0)
        return int(result.input_tokens)

    def estimate(self, prompt: Prompt | GuardedRequest, *, max_tokens: int | None = None,
                 input_tokens: int | None = None) -> CostEstimate:
        """Upper-bound cost of one turn (no cache hit, the whole output budget used).

        The input is counted with ``count_tokens`` (one API round trip) unless ``input_tokens``
        gives the count already (e.g. ``payload.token_bound``, for turns whose first token should
        not wait for a pre-flight)."""
        tokens = self.count_tokens(prompt) if input_tokens is None else input_tokens
        out = max_tokens or self.settings.claude.max_tokens
        price = pricing.price_for(self.resolve_model(), local=self.local)
        caching = ("system" in prompt.payload()) if isinstance(prompt, GuardedRequest) else bool(
            prompt.system or prompt.context)
        usd = pricing.estimate_cost(price, tokens, out, caching=caching)
        return CostEstimate(model=self.resolve_model(), input_tokens=tokens, max_output_tokens=out,
                            usd_plan=usd, usd_total=usd, local=self.local)

    def check_budget(self, estimate: CostEstimate, max_cost: float | None = None) -> None:
        """Raise :class:`CostLimitError` when spent + estimate exceeds the limit."""
        limit = self.max_cost if max_cost is None else max_cost
        with self._lock:
            spent = self._spent - self._budget_base
        if spent + estimate.usd_plan > limit:
            raise CostLimitError(
                f"The next Claude call may cost up to ${estimate.usd_plan:.4f} ({estimate.input_tokens} "
                f"input "
                f"tokens, up to {estimate.max_output_tokens} output tokens on {estimate.model}); with "
                f"${spent:.4f} already spent that is above the limit of ${limit:.2f}. Nothing more was sent.",
                hint="Raise the limit with --max-cost (or claude.max_cost), or narrow the request "
                     "(fewer files, a smaller repo map).",
            )

    def turn(
        self,
        prompt: Prompt,
        *,
        on_text: Callable[[str], None] | None = None,
        max_tokens: int | None = None,
        command: str | None = None,
        should_stop: Callable[[], bool] | None = None,
        preflight: bool = True,
    ) -> Reply:
        """Run one streamed turn and return the complete reply (text and tool uses).

        ``on_text`` receives text deltas as they arrive (secrets restored). When a cost limit
        applies (``max_cost`` finite), a ``count_tokens`` pre-flight checks it first.
        ``should_stop`` is asked at every stream event: when it says so the stream is closed (the
        model stops) and :class:`~codeassist.errors.Cancelled` is raised. ``preflight=False``
        checks the limit with a local token bound instead of ``count_tokens`` (no extra round trip).
        """
        request = self.seal(prompt)
        if self.show_request is not None:
            self._show(request, max_tokens, command)
        if math.isfinite(self.max_cost) and not self.local:
            bound = None if preflight else token_bound(request.payload())
            self.check_budget(self.estimate(request, max_tokens=max_tokens, input_tokens=bound))
        if request.manifest.redactions:
            log.info("Redacted %d secret-looking strings before sending: %s",
                     request.manifest.redaction_count, request.manifest.redactions)
        extra = {"model": self.resolve_model(), "max_tokens": max_tokens or self.settings.claude.max_tokens}
        emitted = [False]

        def deliver(text: str) -> None:
            emitted[0] = True
            if on_text is not None:
                on_text(text)

        reply: Reply = self._retry.run(
            lambda: self._stream_once(self._client(), request, extra, deliver, command, should_stop),
            lambda: emitted[0])
        if (prompt.system or prompt.context) and not self.local and not (reply.usage.cache_read_tokens
                                                                         or reply.usage.cache_write_tokens):
            log.info("The stable prefix was not cached: it is probably below the model's minimum "
                     "(1024-4096 tokens), so every turn pays for it in full.")
        return reply

    def ask(self, user: str, *, system: str = "", context: str = "", command: str | None = None,
            on_text: Callable[[str], None] | None = None) -> str:
        """One question, one text answer."""
        return self.turn(Prompt.single(user, system=system, context=context), on_text=on_text,
                         command=command).text

    async def astream(self, prompt: Prompt, *, max_tokens: int | None = None, command: str | None = None,
                      preflight: bool = True) -> AsyncGenerator[str | Reply, None]:
        """Async form of :meth:`turn`: yields text deltas, then the final :class:`Reply`.

        Closing the iterator early stops the stream at the next delta.
        """
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        stop = threading.Event()

        def on_text(text: str) -> None:
            if stop.is_set():
                raise Cancelled("The answer was cancelled.")
            loop.call_soon_threadsafe(queue.put_nowait, text)

        future = loop.run_in_executor(
            None, lambda: self.turn(prompt, on_text=on_text, max_tokens=max_tokens, command=command,
                                    preflight=preflight))
        future.add_done_callback(lambda _: queue.put_nowait(None))
        try:
            while (item := await queue.get()) is not None:
                yield item
            yield await future
        finally:
            stop.set()
            future.add_done_callback(lambda f: f.cancelled() or f.exception())

    def close(self) -> None:
        """Close the HTTP connections and the ledger's database connection (both reopen on use)."""
        if self._sdk is not None:
            if self._http is None:  # the SDK's own HTTP client; an injected one is its owner's
                self._sdk.close()
            self._sdk = None
        self.ledger.close()

    # -- the gate ---------------------------------------------------------------------------

    def _client(self) -> anthropic.Anthropic:
        if not self.local:
            self.guard.check_cloud()
        if self._sdk is None:
            # the real key is never sent to a local server
            key = self._api_key or (LOCAL_PLACEHOLDER_KEY if self.local else config.anthropic_api_key())
            if key is None:
                raise CloudAuthError(
                    "No Anthropic API key found, so Claude cannot be called.",
                    hint="Set ANTHROPIC_API_KEY in the environment (it is never stored or logged), "
                         "or use --local to run against the local llama-server.",
                )
            timeout = anthropic.Timeout(self.settings.claude.timeout, connect=10.0)
            self._sdk = anthropic.Anthropic(api_key=key, base_url=self.base_url, max_retries=0,
                                            timeout=timeout, http_client=self._http)
        return self._sdk

    def _call(self, fn: Callable[[anthropic.Anthropic], Any]) -> Any:
        """A non-streaming call (models, count_tokens) under the same retry policy."""
        return self._retry.run(lambda: self._plain(fn, self._client()))

    def _plain(self, fn: Callable[[anthropic.Anthropic], Any], sdk: anthropic.Anthropic) -> Any:
        try:
            return fn(sdk)
        except anthropic.APIStatusError as exc:
            raise self._status_error(exc) from exc
        except anthropic.APIConnectionError as exc:
            raise Retryable(_connection_reason(exc)) from exc

    def _status_error(self, exc: anthropic.APIStatusError) -> Exception:
        status = exc.status_code
        if status in (401, 403):
            return CloudAuthError(
                f"The Anthropic API refused the key (HTTP {status}).",
                hint="Check ANTHROPIC_API_KEY (and its workspace's permissions).",
            )
        if status in RETRY_STATUS:
            headers = getattr(exc.response, "headers", {})
            return Retryable(f"HTTP {status} {error_type(exc.body)}".strip(), retry_after_seconds(headers))
        hint = ("Check claude.model (`codeassist config show`)." if status == 404
                else "This looks like a bug in codeassist; please report it with the log (-vv).")
        why = error_message(exc.body, exc.message)
        return CloudError(f"The Anthropic API rejected the request (HTTP {status}): {why}", hint=hint)

    # -- one streamed turn ------------------------------------------------------------------

    def _stream_once(self, sdk: anthropic.Anthropic, request: GuardedRequest, extra: dict[str, Any],
                     deliver: Callable[[str], None], command: str | None,
                     should_stop: Callable[[], bool] | None = None) -> Reply:
        params = self.guard.release(request, **extra)  # only a body the guard sealed is sent
        restorer = StreamRestorer(self.guard, deliver)
        audit = (request, command)
        stream = None
        try:
            with sdk.messages.stream(**params) as stream:
                stopped = False
                for event in stream:
                    if should_stop is not None and should_stop():
                        raise Cancelled("Stopped while Claude was answering.")
                    if event.type == "content_block_delta" and event.delta.type == "text_delta":
                        restorer.feed(event.delta.text)
                    elif event.type == "message_stop":
                        stopped = True
                message = stream.get_final_message()
        except anthropic.APIStatusError as exc:
            if exc.status_code == 200:  # an `error` event inside the stream
                if error_type(exc.body) in RETRY_STREAM_ERRORS:
                    raise Retryable(f"stream error {error_type(exc.body)}") from exc
                why = error_message(exc.body, exc.message)
                raise CloudResponseError(f"Claude's answer ended in an error: {why}",
                                         hint="Run the command again.") from exc
            raise self._status_error(exc) from exc
        except anthropic.APIConnectionError as exc:
            if stream is None:  # no answer began: the connection itself failed
                raise Retryable(_connection_reason(exc)) from exc
            # newer SDKs wrap a transport error while the stream is read
            self._cut_off(stream, params["model"], audit, exc)
        except Cancelled:
            self._record_partial(stream, params["model"], audit, "cancelled")
            raise
        except TRANSPORT_ERRORS as exc:
            self._cut_off(stream, params["model"], audit, exc)
        if not stopped or message.stop_reason is None:
            self._record_partial(stream, params["model"], audit)
            raise CloudResponseError(
                "Claude's answer ended before it was complete (no message_stop); nothing of it was used.",
                hint="Run the command again.",
            )
        restorer.flush()
        return self._finish(message, audit)

    def _finish(self, message: Any, audit: tuple[GuardedRequest, str | None]) -> Reply:
        usage = usage_from(message.usage)
        model = str(message.model or self.resolve_model())
        usage = self._book(model, usage, audit, "ok")
        content: list[dict[str, Any]] = []
        texts: list[str] = []
        tools: list[ToolUse] = []
        for block in message.content:
            if block.type == "text":
                texts.append(self.guard.restore(block.text))
                content.append({"type": "text", "text": texts[-1]})
            elif block.type == "tool_use":
                tool_input = restore_value(dict(block.input), self.guard)
                tools.append(ToolUse(id=block.id, name=block.name, input=tool_input))
                content.append({"type": "tool_use", "id": block.id, "name": block.name, "input": tool_input})
            else:
                content.append(block.model_dump(mode="json", exclude_none=True))
        return Reply(text="".join(texts), tool_uses=tools, stop_reason=str(message.stop_reason), model=model,
                     usage=usage, content=content)

    def _cut_off(self, stream: Any, model: str, audit: tuple[GuardedRequest, str | None],
                 exc: BaseException) -> NoReturn:
        """The connection failed while the answer streamed: book it, then retry or give up."""
        self._record_partial(stream, model, audit)
        if isinstance(exc, httpx.TimeoutException | httpx2.TimeoutException | anthropic.APITimeoutError):
            raise Retryable("the answer stalled (read timeout)") from exc
        raise CloudResponseError(
            "Claude's answer was cut off mid-stream (the connection closed early); "
            "nothing of it was used.", hint="Run the command again.") from exc

    def _record_partial(self, stream: Any, model: str, audit: tuple[GuardedRequest, str | None],
                        status: str = "truncated") -> None:
        """A cut-off answer is still billed for its input: record what the stream reported."""
        try:
            snapshot = stream.current_message_snapshot if stream is not None else None
        except AssertionError:  # nothing arrived at all
            snapshot = None
        if snapshot is not None:
            self._book(model, usage_from(snapshot.usage), audit, status)
        else:
            self._audit(audit[0], "messages", model, status, Usage(), 0.0, audit[1])

    def _show(self, request: GuardedRequest, max_tokens: int | None, command: str | None) -> None:
        """``--show-request``: print the exact redacted body, audit it as shown, send nothing."""
        assert self.show_request is not None
        model = self._model or "(the newest Sonnet)"
        self.show_request(request.payload_json(model=model,
                                               max_tokens=max_tokens or self.settings.claude.max_tokens))
        self._audit(request, "shown", model, "not sent", Usage(), 0.0, command)
        raise RequestShown("The request was printed (--show-request); nothing was sent.")

    def _audit(self, request: GuardedRequest, endpoint: str, model: str, status: str, usage: Usage,
               cost: float, command: str | None = None) -> None:
        m = request.manifest
        self.ledger.record_egress(EgressRecord(
            command=command or self.command, endpoint=endpoint if not self.local else f"local {endpoint}",
            model=model, status=status, chars=m.chars, files=m.files, redactions=m.redactions,
            body_sha256=m.sha256, input_tokens=usage.total_input_tokens, output_tokens=usage.output_tokens,
            cost_usd=cost))

    def _book(self, model: str, tokens: Usage, audit: tuple[GuardedRequest, str | None],
              status: str) -> Usage:
        """Price one call's tokens, count them against the budget, record them in the ledger and
        the egress audit; the priced :class:`Usage` of the call."""
        request, command = audit
        cost: float = pricing.call_cost(pricing.price_for(model, local=self.local), tokens)
        usage = replace(tokens, cost_usd=cost, calls=1)
        self._audit(request, "messages", model, status, usage, cost, command)
        with self._lock:
            self._spent += cost
        self.ledger.record(CallRecord(command=command or self.command, model=model, usage=usage,
                                      status=status))
        log.info("%s %s: %d input + %d output tokens, cache read %d, cache write %d, $%.4f (%s).",
                 "Local" if self.local else "Claude", model, usage.input_tokens, usage.output_tokens,
                 usage.cache_read_tokens, usage.cache_write_tokens, cost, status)
        return usage

    def _newest_model(self, sdk: anthropic.Anthropic) -> str:
        listed = [(str(m.id), str(m.created_at)) for m in sdk.models.list(limit=100)]
        return pricing.default_model(listed, local=self.local)


def _connection_reason(exc: anthropic.APIConnectionError) -> str:
    if isinstance(exc, anthropic.APITimeoutError):
        return "the request timed out"
    host = urlparse(str(exc.request.url)).netloc if getattr(exc, "request", None) is not None else "the API"
    return f"cannot connect to {host}"
