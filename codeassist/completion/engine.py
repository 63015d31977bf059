"""The completion engine: cursor window + repository context -> llama-server -> suggestions.

Cheap enough for every keystroke: the LRU cache answers repeated and typed-through positions
without a request; otherwise the context is assembled from memoised sources and one request is
sent. Cancelling the task that awaits :meth:`CompletionEngine.complete` closes the HTTP request,
and llama-server stops generating.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Protocol, cast

from codeassist.completion import chat_prompt
from codeassist.completion.budget import PromptBudget, Windows
from codeassist.completion.cache import CompletionCache
from codeassist.completion.capabilities import Capabilities, Mode
from codeassist.completion.context import (
    ContextAssembler,
    ContextLimits,
    DefinitionSource,
    chunk_cost,
    in_window,
)
from codeassist.completion.files import DocumentStore
from codeassist.completion.fit import last_code_line
from codeassist.completion.neighbours import LastPosition
from codeassist.completion.postprocess import Surroundings, answer_complete, postprocess
from codeassist.completion.prompt import (
    CHAT_VARIANTS,
    SUFFIX_VARIANTS,
    Variant,
    completion_prompt,
    infill_prompt,
    pick_layout,
    shows_suffix_to_end,
)
from codeassist.completion.refit import refit
from codeassist.completion.request import PreparedRequest, ask
from codeassist.completion.second_choice import N_PROBS
from codeassist.completion.snippet import SnippetWriter
from codeassist.completion.speculation import Speculation, accepted
from codeassist.completion.syntax import SyntaxCheck, grammar_for
from codeassist.completion.tokens import EstimatingCounter, LineCounter, TokenCounter
from codeassist.completion.types import CompletionRequest, CompletionResult, CompletionTimings, ContextChunk
from codeassist.completion.windows import (
    CursorWindow,
    check_position,
    cursor_window,
    longer_suffix,
    split_lines,
    widened,
    with_suffix,
)
from codeassist.config import CompletionSettings
from codeassist.errors import InfillUnsupportedError
from codeassist.runtime.backend import ModelBackend, affinity
from codeassist.runtime.llama_client import ChatParams, Completion, CompletionParams, Sampling
from codeassist.runtime.runtime import CHAT_SLOT, COMPLETION_SLOT

log = logging.getLogger(__name__)

MAX_PREDICT_MS = 1000  # stop generating this long after the first newline
MID_LINE_PREDICT = 48
# while the user types on a line the suggestion finishes that line: the model is shown the next
# few lines only, since what follows the cursor line is processed again with every keystroke
TYPING_SUFFIX_TOKENS = 24
# documents whose code fences belong to them (the language ids editors send)
PROSE_LANGUAGES = frozenset({"markdown", "mdx", "quarto", "rmarkdown", "restructuredtext"})
GREEDY = Sampling(temperature=0.0, top_k=1, top_p=1.0, min_p=0.0, repeat_penalty=1.0, seed=0)


class Runtime(Protocol):
    """What the engine needs of ``codeassist.runtime.LocalRuntime``."""

    async def client(self) -> ModelBackend: ...


class CompletionEngine:
    """UI-free inline completions and snippets on top of the local runtime."""

    def __init__(self, runtime: Runtime, index: DefinitionSource | None, settings: CompletionSettings, *,
                 root: Path | None = None, counter: TokenCounter | None = None,
                 variant: Variant | None = None, min_chars: int = 2,
                 read_model_file: bool = True, max_predict_ms: int = MAX_PREDICT_MS) -> None:
        self.settings = settings
        # None: the measured default of the model's kind (base or instruct), once it is known
        forced = None if settings.prompt == "auto" else cast(Variant, settings.prompt)
        self.variant: Variant | None = forced or variant
        self.min_chars = min_chars
        self._runtime = runtime
        self._exact_counter = counter is not None
        self._counter = LineCounter(counter or EstimatingCounter())
        self._docs = DocumentStore(root if root is not None else _index_root(index))
        self._context = ContextAssembler(index, self._docs, self._counter,
                                         ContextLimits(tokens=settings.context_tokens))
        self._cache = CompletionCache(settings.cache_size)
        # the editor waits the debounce before it asks: that part of the user's wait is spent
        self._budget = PromptBudget(settings.latency_ms, waited_ms=settings.debounce_ms)
        self._last = LastPosition()
        self._speculation = Speculation()
        self._caps = Capabilities(settings.mode, read_model_file=read_model_file,
                                  want_tokenizer=counter is None)
        self._max_predict_ms = max_predict_ms
        # snippets are longer than completions: twice the tokens, four times the time
        self._snippets = SnippetWriter(self._request_snippet, n_predict=max(16, 2 * settings.n_predict),
                                       timeout=4 * settings.timeout)

    # ---- public API ----------------------------------------------------------------------
    @property
    def mode(self) -> Mode | None:
        """``infill`` or ``completion`` once the model's capability is known."""
        return self._caps.mode

    @property
    def budget(self) -> PromptBudget:
        """The latency budget and the prompt speed it measured."""
        return self._budget

    async def idle(self) -> None:
        """Wait until the speculative request in flight (if any) has finished."""
        await self._speculation.idle()

    def note_edit(self, path: str, line: int) -> None:
        """Remember an edited line; the ranges around recent edits become context."""
        self._context.note_edit(path, line)

    def cached(self, request: CompletionRequest) -> CompletionResult | None:
        """The answer from the LRU cache (exact or typed-through), without touching the server.

        Cheap and synchronous: surfaces call it before debouncing, so a cache hit is never delayed.
        """
        started = time.perf_counter()
        _, window = self._window(request)
        rel = self._docs.relative(request.path)
        hit = self._cache.get(rel, window.before, window.line_prefix, window.suffix)
        if hit is None:
            return None
        total = (time.perf_counter() - started) * 1000
        return CompletionResult(hit, CompletionTimings("cache", total_ms=total), cached=True)

    async def complete(self, request: CompletionRequest) -> CompletionResult:
        result, typing = await self._complete(request)
        # not while the user types on a line: the next keystroke would wait for it (llama-server
        # notices a cancelled request only once its prompt is processed)
        if (self.settings.speculative and result.items and not result.cached and not typing
                and self._budget.has_headroom(result.timings.server_ms)):
            # llama.vscode's: the next suggestion, as if this one were accepted (into the cache)
            self._speculation.start(self._complete(accepted(request, result.items[0]), speculative=True))
        return result

    async def _complete(self, request: CompletionRequest, *, speculative: bool = False
                        ) -> tuple[CompletionResult, bool]:
        """The result, and whether it was asked while the user typed on the line of the last one."""
        started = time.perf_counter()
        hit = self.cached(request)
        if hit is not None:
            return hit, False
        self._speculation.stop()  # the real request needs the completion slot
        client = await self._runtime.client()
        await self._probe(client)  # first: the window is cut with the model's own tokenizer
        lines, window = self._window(request)
        rel = self._docs.relative(request.path)
        typing = not speculative and self._last.typing(rel, window)
        sent = with_suffix(window, self._counter, TYPING_SUFFIX_TOKENS) if typing else window
        prepared = self._prepare(request, lines, sent, typing=typing, remember=not speculative)
        with affinity(rel):  # a pool of servers keeps each document on one (its prompt cache)
            answer, prepared = await self._send(client, prepared, request, lines, sent)
        around = replace(_surroundings(window, request.language), suffix_seen=prepared.sees_suffix,
                         stop=answer.stop_type)
        raw = answer.text
        if prepared.layout in CHAT_VARIANTS:
            raw = chat_prompt.answer_code(raw, window, prepared.layout or "")
        text = postprocess(raw, around, min_chars=self.min_chars)
        log.debug("answer %r (stop: %s) -> %r", raw, answer.stop_type, text)
        syntax = SyntaxCheck(grammar_for(request.path, request.language), lines, window)
        # while the user types, a suggestion that does not fit is cut: a second request would make
        # the next keystroke wait for it
        text, again = await refit(client, prepared, answer, text, around, syntax, min_chars=self.min_chars,
                                  retry=not typing)
        items = [text] if text else []
        self._cache.put(rel, window.before, window.line_prefix, window.suffix, items)
        t = answer.timings
        # the first line at a new position is what the user waits for: the budget learns its length
        first_line = "" if typing or speculative else next((ln for ln in raw.split("\n") if ln.strip()), "")
        self._budget.observe(t, self._counter.count(first_line) if first_line else 0)
        timings = CompletionTimings(prepared.mode, prompt_tokens=t.prompt_n + t.cache_n,
                                    cached_tokens=t.cache_n,
                                    predicted_tokens=sum(a.timings.predicted_n for a in [answer, *again]),
                                    server_ms=sum(a.timings.server_ms for a in [answer, *again]),
                                    context_ms=prepared.context_ms, second_choices=len(again),
                                    total_ms=(time.perf_counter() - started) * 1000)
        log.debug("completion %s: %s", prepared.mode, timings)
        return CompletionResult(items, timings, cached=False, context=prepared.chunks), typing

    async def generate_snippet(self, instruction: str, context: str, *, language: str = "") -> str:
        """Code for ``instruction`` from the local model; ``context`` is nearby code (may be empty)."""
        client = await self._runtime.client()
        await self._probe(client)
        return await self._snippets.write(instruction, context, chat=self._caps.chat_template,
                                          language=language)

    async def warm(self) -> None:
        """Learn what the model can do now (FIM tokens, chat template, its tokenizer), so the first
        completion does not wait for it."""
        await self._probe(await self._runtime.client())

    async def prepare(self, request: CompletionRequest) -> PreparedRequest:
        """The request :meth:`complete` would send for ``request`` (after the capability probe)."""
        client = await self._runtime.client()
        await self._probe(client)
        lines, window = self._window(request)
        return self._prepare(request, lines, window)

    def clear_cache(self) -> None:
        self._cache.clear()
        self._last.forget()

    # ---- steps -----------------------------------------------------------------------------
    def _window(self, request: CompletionRequest) -> tuple[list[str], CursorWindow]:
        lines = split_lines(request.text)
        check_position(lines, request.line, request.col, request.path)
        sizes = self.windows()
        window = cursor_window(lines, request.line, request.col, self._counter,
                               prefix_tokens=sizes.prefix, suffix_tokens=sizes.suffix)
        if self._budget.tokens is not None:  # what the suffix left unused goes to the prefix
            prefix = self._budget.prefix_for(self._configured(), window.suffix_tokens,
                                             self._configured().context > 0)
            if prefix != sizes.prefix:
                window = cursor_window(lines, request.line, request.col, self._counter,
                                       prefix_tokens=prefix, suffix_tokens=sizes.suffix)
            if window.start_line == 0:  # and what the prefix left (the file's start) to the suffix
                spare = max(0, window.prefix_limit - window.prefix_tokens)
                window = longer_suffix(window, lines, self._counter,
                                       min(self._configured().suffix, sizes.suffix + spare))
        return lines, window

    def _configured(self) -> Windows:
        s = self.settings
        return Windows(s.prefix_tokens, s.suffix_tokens, s.context_tokens)

    def windows(self) -> Windows:
        """The most prefix, suffix and context tokens the next request may take: the configured
        sizes, held to the latency budget at the server's measured prompt speed."""
        return self._budget.windows(self._configured())

    def context_for(self, request: CompletionRequest) -> list[ContextChunk]:
        """The repository context that a completion at ``request`` would send."""
        lines, window = self._window(request)
        return self.assemble_context(request, lines, window)

    def assemble_context(self, request: CompletionRequest, lines: list[str], window: CursorWindow
                         ) -> list[ContextChunk]:
        tokens = self._budget.context_for(self._configured(), window.prefix_tokens + window.suffix_tokens)
        if tokens != self._context.limits.tokens:
            self._context.limits = replace(self._context.limits, tokens=tokens)
        return self._context.assemble(request.path, request.language, lines, window,
                                      request.open_documents)

    def _prepare(self, request: CompletionRequest, lines: list[str], window: CursorWindow,
                 mode: Mode | None = None, *, typing: bool = False, remember: bool = False
                 ) -> PreparedRequest:
        started = time.perf_counter()
        rel = self._docs.relative(request.path)
        kept = self._last.context(rel, window)  # typing on the line of the last request
        chunks = kept if kept is not None else tuple(self.assemble_context(request, lines, window))
        if remember:  # a real request (a speculative one only borrows the context)
            self._last.remember(rel, window, chunks)
        mode = mode or self._caps.mode or "infill"
        layout = pick_layout(self.variant, self._caps.template is not None) if mode == "completion" else None
        shows_suffix = layout is None or layout in SUFFIX_VARIANTS
        # what the context left of its share goes to the lines above the window, and so does the
        # suffix's share when the prompt does not show the suffix
        used = sum(chunk_cost(self._counter, c) for c in chunks)
        configured = self._configured()
        extra = (self._budget.context_left(configured, used) if shows_suffix
                 else self._budget.prefix_alone(configured, used) - window.prefix_limit)
        wider = widened(window, lines, self._counter, extra)
        if wider is window and window.start_line == 0 and shows_suffix and not typing:
            # the window holds the file's start: the share goes to the code below the cursor
            wider = longer_suffix(window, lines, self._counter,
                                  min(configured.suffix, window.suffix_tokens + extra))
        if wider is not window:  # nothing twice: a chunk of this file the wider window now holds
            window = wider
            chunks = tuple(c for c in chunks if not in_window(c, rel, window))
        # new prompt tokens: all of them (the window's prefix includes the cursor line), or, the
        # window and context already cached, the cursor line and what follows it
        if kept is None:
            fresh = window.prefix_tokens + sum(self._counter.count(c.text) for c in chunks)
        else:
            fresh = self._counter.line(window.line_prefix + window.line_suffix)
        fresh += window.suffix_tokens if shows_suffix else 0
        params = self._params(window, mode, fresh, typing)
        context_ms = (time.perf_counter() - started) * 1000
        if layout is None:
            params = replace(params, until=_until(window, request.language, suffix_seen=True))
            return PreparedRequest(mode, window, chunks, params, infill=infill_prompt(window, chunks),
                                   context_ms=context_ms)
        if layout in CHAT_VARIANTS:
            assert self._caps.template is not None
            prompt = chat_prompt.chat_prompt(self._caps.template, window, chunks, rel, request.language,
                                             layout)
            if layout == "chat_hole":  # the answer may open with a fence line: the turn's end ends
                params = replace(params, stop=(), t_max_predict_ms=0)  # it, not a newline
        else:
            prompt = completion_prompt(window, chunks, rel, request.language, layout)
            params = replace(params, until=_until(window, request.language,
                                                       suffix_seen=shows_suffix_to_end(layout, window)))
        return PreparedRequest(mode, window, chunks, params, prompt=prompt, context_ms=context_ms,
                               layout=layout)

    def _params(self, window: CursorWindow, mode: Mode, fresh_tokens: int, typing: bool
                ) -> CompletionParams:
        single = _surroundings(window).mid_line or typing  # the rest of this line only
        n_predict = min(self.settings.n_predict, MID_LINE_PREDICT) if single else self.settings.n_predict
        stop: tuple[str, ...] = ("\n",) if single else ()
        if mode == "completion" and not single:
            stop = ("\n\n",)  # a base model keeps going: one block of lines is enough
        # generation stops a while after the first newline: when the budget is spent (without a
        # budget: a second, or 32 tokens' time when longer)
        predict_ms = self._budget.generation_ms(fresh_tokens, self._max_predict_ms)
        return CompletionParams(n_predict=n_predict, sampling=GREEDY, stop=stop, cache_prompt=True,
                                id_slot=COMPLETION_SLOT, t_max_predict_ms=predict_ms,
                                timeout=self.settings.timeout, n_probs=N_PROBS)

    async def _send(self, client: ModelBackend, prepared: PreparedRequest, request: CompletionRequest,
                    lines: list[str], window: CursorWindow) -> tuple[Completion, PreparedRequest]:
        if prepared.infill is not None:
            try:
                answer = await ask(client, prepared)
            except InfillUnsupportedError:
                log.info("the model has no FIM tokens: using prompt-built completions on /completion")
                self._caps.mode = "completion"
                prepared = self._prepare(request, lines, window, "completion", remember=True)
            else:
                self._caps.mode = "infill"
                return answer, prepared
        return await ask(client, prepared), prepared

    async def _probe(self, client: ModelBackend) -> None:
        """Learn once what the model can do (:mod:`codeassist.completion.capabilities`); its own
        tokenizer then counts the windows' tokens."""
        await self._caps.ensure(client)
        if self._caps.tokenizer is not None and not self._exact_counter:
            self._counter = LineCounter(self._caps.tokenizer)
            self._context.set_counter(self._counter)
            self._exact_counter = True

    async def _request_snippet(self, prompt: str, params: CompletionParams,
                               messages: list[Mapping[str, str]] | None) -> str:
        # snippets run on the chat slot: their prompts never evict the completions' prompt cache
        client = await self._runtime.client()
        if messages is not None:
            stream = client.stream_chat(messages, params=_chat_params(params))
            async with stream:
                return "".join([piece async for piece in stream])
        return (await client.complete(prompt, replace(params, id_slot=CHAT_SLOT))).text


def _surroundings(window: CursorWindow, language: str = "") -> Surroundings:
    return Surroundings(window.line_prefix, window.line_suffix, tuple(window.next_lines),
                        line_above=last_code_line(window.before.split("\n")),
                        prose=language.lower() in PROSE_LANGUAGES)


def _until(window: CursorWindow, language: str, *, suffix_seen: bool) -> Callable[[str], bool]:
    """Whether the answer streamed so far is complete: then generation stops early."""
    around = replace(_surroundings(window, language), suffix_seen=suffix_seen)
    return lambda text: answer_complete(text, around)


def _chat_params(params: CompletionParams) -> ChatParams:
    return ChatParams(max_tokens=params.n_predict, sampling=params.sampling, stop=params.stop,
                      think=False, timeout=params.timeout, id_slot=CHAT_SLOT)


def _index_root(index: DefinitionSource | None) -> Path | None:
    root = getattr(index, "root", None)
    return root if isinstance(root, Path) else None
