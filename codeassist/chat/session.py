"""The chat core: routing, context, streaming answers from the local model or Claude, history.

UI-free: the Textual app, the plain REPL and ``codeassist ask`` all drive a :class:`ChatSession`
and render its :mod:`~codeassist.chat.events`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from codeassist.chat import cloud
from codeassist.chat.code import last_code_block
from codeassist.chat.context import ChatContext, estimate_tokens
from codeassist.chat.events import AnswerStats, ChatEvent, Done, Notice, Route, Routed, RouteDecision, Token
from codeassist.chat.history import History, StoredMessage
from codeassist.chat.prompt import SYSTEM_INTRO, Turn, build_context, build_system, fit_history
from codeassist.chat.routing import RoutingInputs, decide
from codeassist.claude.datatypes import Usage
from codeassist.config import Settings
from codeassist.errors import CloudAuthError, CodeassistError, ModelError, ModelServerError, PrivacyError
from codeassist.refactor.models import RefactorObserver, RefactorOptions, RefactorReport
from codeassist.runtime import CHAT_SLOT, ChatParams, Sampling
from codeassist.runtime.catalogue import DEFAULT_MODEL

if TYPE_CHECKING:
    from codeassist.claude.client import ClaudeClient
    from codeassist.completion import CompletionEngine
    from codeassist.index import RepoIndex
    from codeassist.runtime import LocalRuntime

__all__ = ["ChatSession", "Refactors", "SessionTotals"]

# (instruction, options, observer, cancel) -> report: the application's refactor runner
Refactors = Callable[[str, RefactorOptions, RefactorObserver, threading.Event | None], RefactorReport]

log = logging.getLogger(__name__)

HISTORY_SHARE = 0.35  # part of the local prompt budget given to earlier turns
CLAUDE_MAP_FACTOR = 4  # Claude gets a repo map this many times bigger than the local model
SNIPPET_CONTEXT_CHARS = 6000  # code from the files in play handed to the snippet writer


@dataclass
class SessionTotals:
    """Running totals shown in the status line and by /cost: one :class:`Usage` per route."""

    claude: Usage = field(default_factory=Usage)
    local: Usage = field(default_factory=Usage)

    @property
    def prompt_tokens(self) -> int:
        return self.claude.total_input_tokens + self.local.total_input_tokens

    @property
    def completion_tokens(self) -> int:
        return self.claude.output_tokens + self.local.output_tokens

    @property
    def cost_usd(self) -> float:
        return self.claude.cost_usd + self.local.cost_usd

    @property
    def claude_calls(self) -> int:
        return self.claude.calls

    @property
    def local_calls(self) -> int:
        return self.local.calls


class ChatSession:
    """One conversation in one repository.

    ``runtime`` gives the local llama-server client, ``index`` the repo map and symbols (None: no
    index), ``claude`` the Claude client (None: Claude is not set up), ``engine`` the completion
    engine that writes snippets and ``refactors`` runs the refactor planner (both None: no snippets,
    no refactors). :meth:`codeassist.app.Application.chat_session` builds them all.
    """

    def __init__(
        self,
        settings: Settings,
        runtime: LocalRuntime,
        index: RepoIndex | None,
        claude: ClaudeClient | None,
        *,
        root: Path | None = None,
        history: History | None = None,
        engine: CompletionEngine | None = None,
        refactors: Refactors | None = None,
    ) -> None:
        self.settings = settings
        self.runtime = runtime
        self.claude = claude
        self.root = (root or settings.repo_root or Path.cwd()).resolve()
        self.context = ChatContext(self.root, index)
        self.mode: str = settings.chat.route
        self.think = settings.chat.think
        self.turns: list[Turn] = []
        self.totals = SessionTotals()
        self.history = history
        self.conversation: int | None = None
        self.guard = claude.guard if claude is not None else cloud.make_guard(settings)
        self.last_snippet: str | None = None
        self._engine = engine
        self._refactors = refactors

    # --- routing -------------------------------------------------------------------------
    @property
    def local_model(self) -> str:
        return Path(self.settings.model.path).stem if self.settings.model.path else self.settings.model.name

    @property
    def claude_model(self) -> str:
        return cloud.model_name(self.claude, self.settings)

    @property
    def cloud_allowed(self) -> bool:
        return self.settings.privacy.cloud

    @property
    def claude_ready(self) -> bool:
        """A Claude client was handed in (the application builds one only with an API key)."""
        return self.claude is not None

    @property
    def local_budget(self) -> int:
        """Prompt tokens the local model can take: one slot's context minus the answer."""
        slot = self.settings.server.ctx_size // max(1, self.settings.server.parallel)
        return max(512, slot - self.settings.chat.max_tokens)

    def route(self, text: str, *, force: Route | None = None) -> RouteDecision:
        files_tokens = sum(estimate_tokens(f.text) for f in self.context.read_files()[0])
        history_tokens = sum(estimate_tokens(t.content) for t in self.turns)
        inputs = RoutingInputs(
            text=text, mode=force or self.mode, cloud_allowed=self.cloud_allowed,
            claude_ready=self.claude_ready, context_files=self.context.files,
            prompt_tokens=estimate_tokens(text) + files_tokens + min(history_tokens, self.local_budget // 3),
            local_budget=self.local_budget, local_can_chat=self.runtime.chat_problem() is None,
        )
        return decide(inputs)

    # --- answering -----------------------------------------------------------------------
    async def answer(self, text: str, *, force: Route | None = None) -> AsyncGenerator[ChatEvent, None]:
        """Stream the answer to ``text``: Routed, Notice*, Token*, Done.

        Closing the iterator (or cancelling the task consuming it) stops the generation; the
        partial answer is kept in the conversation.
        """
        decision = self.route(text, force=force)
        model = self.local_model if decision.route == "local" else await self._claude_model_id()
        yield Routed(decision, model)
        started = time.perf_counter()
        self._remember(Turn("user", text), decision.route, "")
        parts: list[str] = []
        first: float | None = None
        state = _AnswerState()
        try:
            if decision.route == "local":
                stream = self._local_events(text, state)
            else:
                stream = self._claude_events(text, state)
            async with aclosing(stream) as events:
                async for event in events:
                    if isinstance(event, Token):
                        parts.append(event.text)
                        first = first if first is not None else event.at - started
                    yield event
            state.finished = True
        finally:
            answer = "".join(parts)
            model = state.model or model  # the model that answered, as the API named it
            self._remember(Turn("assistant", answer if state.finished else answer + "\n\n*(cancelled)*"),
                           decision.route, model)
        stats = AnswerStats(
            route=decision.route, model=model, reason=decision.reason,
            prompt_tokens=state.prompt_tokens, completion_tokens=state.completion_tokens,
            cost_usd=state.cost_usd, first_token_s=first, total_s=time.perf_counter() - started,
            context_files=state.context_files,
        )
        yield Done(stats, answer)

    async def _claude_model_id(self) -> str:
        """The Claude model that will answer (resolved once from the API's model list if needed)."""
        if self.claude is None or not self.settings.privacy.cloud:
            return self.claude_model
        try:
            return await asyncio.to_thread(self.claude.resolve_model)
        except CodeassistError as exc:  # the answer itself reports the problem
            log.info("model id not resolved: %s", exc)
            return self.claude_model

    async def _local_events(self, text: str, state: _AnswerState) -> AsyncGenerator[ChatEvent, None]:
        problem = self.runtime.chat_problem()
        if problem is not None:
            raise ModelError(problem, hint=f"Chat with a model that can: `codeassist model use "
                                           f"{DEFAULT_MODEL}` (offline) or Gemma 4; or set "
                                           "ANTHROPIC_API_KEY to chat with Claude.")
        budget = self.local_budget
        files, _ = self.context.read_files()
        map_tokens = min(self.settings.index.map_tokens, budget // 4)
        repo_map = await asyncio.to_thread(self.context.repo_map, map_tokens)  # ranking takes a while
        system = build_system(self.root.name, repo_map, files, file_budget=budget // 2)
        room = max(0, budget - estimate_tokens(system) - estimate_tokens(text))
        earlier = fit_history(self.turns[:-1], min(room, int(budget * HISTORY_SHARE)))
        messages = _messages(system, earlier, text)
        state.context_files = tuple(f.path for f in files)
        client = await self.runtime.client()
        params = ChatParams(max_tokens=self.settings.chat.max_tokens, think=self.think, id_slot=CHAT_SLOT,
                            sampling=Sampling(temperature=self.settings.chat.temperature))
        stream = client.stream_chat(messages, params)
        async with stream:
            async for piece in stream:
                yield Token(piece, time.perf_counter())
        result = stream.result
        if result is not None:
            state.prompt_tokens = result.timings.prompt_n + result.timings.cache_n
            state.completion_tokens = result.timings.predicted_n
        self.totals.local += Usage(input_tokens=state.prompt_tokens, output_tokens=state.completion_tokens,
                                   calls=1)

    async def _claude_events(self, text: str, state: _AnswerState) -> AsyncGenerator[ChatEvent, None]:
        if not self.cloud_allowed:
            raise PrivacyError("Offline mode is on: nothing is sent to Claude.",
                               hint="Use /local, or set `privacy.cloud = true` to allow Claude.")
        if self.claude is None:
            raise CloudAuthError("Claude is not set up: no ANTHROPIC_API_KEY is set.",
                                 hint="Set ANTHROPIC_API_KEY (or use /local for the local model).")
        files, notices = self.context.cloud_files(self.guard, text)
        for notice in notices:
            yield Notice(notice)
        repo_map = await asyncio.to_thread(self.context.repo_map,
                                           self.settings.index.map_tokens * CLAUDE_MAP_FACTOR)
        context = build_context(repo_map, files, file_budget=60_000)
        earlier = fit_history(self.turns[:-1], 30_000)
        state.context_files = tuple(f.path for f in files)
        request = cloud.CloudRequest(system=SYSTEM_INTRO.format(root=self.root.name), context=context,
                                     messages=_messages("", earlier, text)[1:],
                                     max_tokens=min(self.settings.claude.max_tokens, 8000),
                                     files=tuple((f.path, len(f.text)) for f in files))
        async with aclosing(cloud.stream_answer(self.claude, self.guard, request)) as pieces:
            async for piece in pieces:
                yield Token(piece, time.perf_counter())
        usage = request.usage
        state.model = request.model
        state.prompt_tokens, state.completion_tokens = usage.total_input_tokens, usage.output_tokens
        state.cost_usd = usage.cost_usd
        self.totals.claude += usage

    # --- snippets and refactors ---------------------------------------------------------
    async def snippet(self, instruction: str) -> str:
        """Code for ``instruction`` from the local model (kept for /apply); nothing leaves the machine."""
        if self._engine is None:
            raise ModelServerError("This chat has no completion engine for snippets.",
                                   hint="Open the chat with `codeassist chat` (the application builds it).")
        files, _ = self.context.read_files()
        context = "\n\n".join(f"# {f.path}\n{f.text}" for f in files)[-SNIPPET_CONTEXT_CHARS:]
        code = await self._engine.generate_snippet(instruction, context)
        self.last_snippet = code
        self._remember(Turn("user", f"/snippet {instruction}"), "local", "")
        self._remember(Turn("assistant", f"```\n{code.rstrip()}\n```"), "local", self.local_model)
        return code

    def refactor(self, instruction: str, observer: RefactorObserver,
                 cancel: threading.Event | None = None) -> RefactorReport:
        """Run the refactor planner (blocking; surfaces call it on a worker thread).

        Setting ``cancel`` stops it (Claude's stream is closed; nothing is committed)."""
        self.guard.check_cloud()
        if self.claude is None or self._refactors is None:
            raise CloudAuthError(
                "Refactors need Claude, and Claude is not set up (no ANTHROPIC_API_KEY).",
                hint="Set ANTHROPIC_API_KEY, or run `codeassist refactor --local` in a shell.")
        spent_before = self.claude.spent_usd
        try:
            report = self._refactors(instruction, RefactorOptions(files=self.context.files), observer, cancel)
        except BaseException:  # stopped or failed: what was spent still counts
            self.totals.claude += Usage(cost_usd=self.claude.spent_usd - spent_before)
            raise
        self.totals.claude += report.usage
        return report

    # --- conversation state --------------------------------------------------------------
    def _remember(self, turn: Turn, route: str, model: str) -> None:
        self.turns.append(turn)
        if self.history is None or not self.settings.chat.history:
            return
        if self.conversation is None:
            self.conversation = self.history.new_conversation(self.root)
        self.history.append(self.conversation, StoredMessage(turn.role, turn.content, route, model))

    def resume(self, conversation: int | None = None) -> list[StoredMessage]:
        """Continue a stored conversation (default: this repository's latest). Returns its messages."""
        if self.history is None:
            return []
        conversation = conversation if conversation is not None else self.history.latest(self.root)
        if conversation is None:
            return []
        stored = self.history.messages(conversation)
        self.conversation = conversation
        self.turns = [Turn(m.role, m.content) for m in stored]
        return stored

    def clear(self) -> None:
        """Start a new conversation; the old one stays in the history."""
        self.turns = []
        self.conversation = None

    def last_code_block(self) -> str | None:
        """The last fenced code block of the assistant's answers (for /apply and /copy)."""
        for turn in reversed(self.turns):
            if turn.role == "assistant":
                block = last_code_block(turn.content)
                if block is not None:
                    return block
        return None


@dataclass
class _AnswerState:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    finished: bool = False
    context_files: tuple[str, ...] = ()
    model: str = ""


def _messages(system: str, earlier: Sequence[Turn], text: str) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": system}]
    messages += [{"role": t.role, "content": t.content} for t in earlier if t.content]
    messages.append({"role": "user", "content": text})
    return messages
