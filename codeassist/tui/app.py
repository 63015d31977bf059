"""The Textual chat app: conversation pane, prompt, status line; answers stream from a worker."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import ClassVar, ParamSpec, TypeVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Input, Markdown, Static
from textual.widgets.markdown import MarkdownStream
from textual.worker import Worker, WorkerState

from codeassist.app import index_update_problem
from codeassist.chat import ChatSession, Command, Done, Notice, Route, Routed, Token, parse_command
from codeassist.errors import Cancelled, CodeassistError
from codeassist.tui import commands
from codeassist.tui.refactor_flow import TuiRefactorObserver, report_text
from codeassist.tui.screens import HelpScreen
from codeassist.tui.widgets import AssistantMessage, ChatInput, StatusLine, UserMessage

__all__ = ["ChatApp", "LatencySample"]

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")


@dataclass
class LatencySample:
    """One answer's first token: when the model server sent it and when it was painted."""

    server_at: float
    screen_at: float | None = None
    cpu_at: float = 0.0  # time.thread_time() of the UI thread when the piece was handled
    cpu_painted: float | None = None  # ... and when it was painted (load-independent cost)

    @property
    def delay_ms(self) -> float | None:
        return None if self.screen_at is None else (self.screen_at - self.server_at) * 1000

    @property
    def cpu_ms(self) -> float | None:
        return None if self.cpu_painted is None else (self.cpu_painted - self.cpu_at) * 1000


@dataclass
class _Metrics:
    first_tokens: list[LatencySample] = field(default_factory=list)


class ChatApp(App[None]):
    """``codeassist chat``: talk to the local model or Claude about the current repository."""

    TITLE = "codeassist"
    CSS = """
    Screen { layout: vertical; }
    #conversation { height: 1fr; padding: 0 1; }
    #prompt { height: auto; }
    .system { color: $text-muted; padding: 0 1; }
    .error { color: $error; padding: 0 1; }
    .notice { color: $warning; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Stop the answer"),
        Binding("f1", "help", "Help"),
        Binding("ctrl+l", "clear", "New conversation"),
        Binding("ctrl+y", "copy_code", "Copy the last code block"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(self, session: ChatSession, *, resume: bool = False, notice: str | None = None) -> None:
        super().__init__()
        self.session = session
        self.resume = resume
        self.notice = notice
        self.metrics = _Metrics()
        self.status = StatusLine()
        self.answer_worker: Worker[None] | None = None
        self.refactor_worker: Worker[None] | None = None
        self.refactor_stop = threading.Event()
        self.refactor_busy = threading.Event()

    # --- layout --------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield VerticalScroll(id="conversation")
        yield ChatInput(lambda: str(self.session.root))
        yield self.status

    async def on_mount(self) -> None:
        self.status.model = self.session.local_model
        self.status.route = self.session.mode
        self.query_one(ChatInput).focus()
        pane = self.query_one("#conversation", VerticalScroll)
        pane.anchor()
        if self.notice:  # first: which model this is, honestly
            await self.say(self.notice, "notice")
        await self.say(f"codeassist chat in {self.session.root} — F1 or /help for keys and commands, "
                       "Esc stops an answer, Ctrl+Q quits.", "system")
        if self.resume:
            await self._show_resumed()
        self.start_server()
        self.update_index()

    async def on_unmount(self) -> None:
        await self.session.runtime.aclose()

    async def _show_resumed(self) -> None:
        stored = self.session.resume()
        if not stored:
            await self.say("No earlier conversation for this repository; starting a new one.", "system")
            return
        await self.say(f"Resumed the last conversation ({len(stored)} messages).", "system")
        pane = self.query_one("#conversation", VerticalScroll)
        for message in stored:
            if message.role == "user":
                await pane.mount(UserMessage(message.content, markup=False))
            else:
                block = AssistantMessage()
                await pane.mount(block)
                block.route.update(f"{message.model} ({message.route})")
                await block.markdown.update(message.content)

    def conversation(self) -> VerticalScroll:
        return self.query_one("#conversation", VerticalScroll)

    async def say(self, text: str, kind: str = "system") -> None:
        """A line from codeassist itself (not from a model) in the conversation."""
        await self.conversation().mount(Static(text, classes=kind, markup=False))

    async def show_markdown(self, text: str) -> None:
        """Markdown from codeassist itself (a table, a code block) in the conversation."""
        await self.conversation().mount(Markdown(text, classes="system"))

    # --- background work -----------------------------------------------------------------
    @work(exclusive=True, group="server", exit_on_error=False)
    async def start_server(self) -> None:
        """Start (or attach to) the model server lazily, showing its state in the status line."""
        self.status.server = "starting…"
        try:
            client = await self.session.runtime.client()
            state = await client.health()
        except CodeassistError as exc:
            self.status.server = "unavailable"
            await self.say(f"The local model server is not available: {exc}", "error")
            return
        self.status.server = "ready" if state == "ok" else state

    @work(thread=True, exclusive=True, group="index", exit_on_error=False)
    def update_index(self) -> None:
        index = self.session.context.index
        if index is None:
            return
        self.call_from_thread(setattr, self.status, "activity", "indexing…")
        try:
            index.update()
        except CodeassistError as exc:
            self.call_from_thread(self.notify, index_update_problem(exc), severity="warning")
        finally:
            self.call_from_thread(setattr, self.status, "activity", "")

    # --- input ---------------------------------------------------------------------------
    async def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        prompt = self.query_one(ChatInput)
        prompt.value = ""
        if not text:
            return
        prompt.remember(text)
        try:
            command = parse_command(text)
            if command is None:
                self.ask(text[1:] if text.startswith("//") else text)
            else:
                await commands.run(self, command)
        except Cancelled as exc:  # stopped by the user: not an error
            await self.say(str(exc), "notice")
        except CodeassistError as exc:
            await self.say(str(exc), "error")

    def ask(self, text: str, force: Route | None = None) -> None:
        if self.answer_worker is not None and self.answer_worker.state == WorkerState.RUNNING:
            self.notify("An answer is still being written: Esc stops it.", severity="warning")
            return
        self.answer_worker = self._answer(text, force)

    @work(exclusive=True, group="answer", exit_on_error=False)
    async def _answer(self, text: str, force: Route | None) -> None:
        pane = self.query_one("#conversation", VerticalScroll)
        sample: LatencySample | None = None

        block = AssistantMessage()
        mounting = pane.mount(UserMessage(text, markup=False), block)  # awaited before the first write
        stream = Markdown.get_stream(block.markdown)
        writer = _Coalescer(stream)

        def painted(at: float) -> None:
            if sample is not None and sample.screen_at is None:
                sample.screen_at = at
                sample.cpu_painted = time.thread_time()
            writer.held = False
        self.status.activity = "answering… (Esc stops)"
        try:
            async with aclosing(self.session.answer(text, force=force)) as events:
                async for event in events:
                    if isinstance(event, Token):
                        if sample is None:
                            sample = LatencySample(event.at, cpu_at=time.thread_time())
                            self.metrics.first_tokens.append(sample)
                            await mounting
                            writer.held = True  # until the preview is painted
                            block.show_first(event.text, painted)
                        await writer.add(event.text)
                    elif isinstance(event, Routed):
                        block.route.update(event.line)
                        self.status.route = f"{self.session.mode} → {event.decision.route}"
                        self.status.model = event.model
                    elif isinstance(event, Notice):
                        await mounting
                        await block.add_line(event.text, "notice")
                    elif isinstance(event, Done):
                        await mounting
                        await writer.flush()
                        await block.add_line(_stats_line(event), "stats")
        except asyncio.CancelledError:
            await mounting
            await block.add_line("Stopped.", "notice")
            raise
        except CodeassistError as exc:
            await mounting
            await block.add_line(str(exc), "error")
        finally:
            await writer.flush()
            await stream.stop()
            self.status.activity = ""
            self._update_totals()

    def snippet(self, instruction: str) -> None:
        if self.answer_worker is not None and self.answer_worker.state == WorkerState.RUNNING:
            self.notify("An answer is still being written: Esc stops it.", severity="warning")
            return
        self.answer_worker = self._snippet(instruction)

    @work(exclusive=True, group="answer", exit_on_error=False)
    async def _snippet(self, instruction: str) -> None:
        block = await self._new_block(f"/snippet {instruction}")
        block.route.update(f"{self.session.local_model} (local) — snippets are written by the local model")
        self.status.activity = "writing the snippet… (Esc stops)"
        try:
            code = await self.session.snippet(instruction)
        except CodeassistError as exc:
            await block.add_line(str(exc), "error")
            return
        except asyncio.CancelledError:
            await block.add_line("Stopped.", "notice")
            raise
        finally:
            self.status.activity = ""
        await block.markdown.update(f"```\n{code.rstrip()}\n```" if code.strip() else "*(empty snippet)*")
        await block.add_line("/apply PATH writes it to a file (after confirmation); Ctrl+Y copies it.",
                             "stats")

    def refactor(self, instruction: str) -> None:
        if self.refactor_busy.is_set():  # set until the thread returns (a cancelled worker may still run)
            self.notify("A refactor is running: Esc stops it.", severity="warning")
            return
        self.refactor_busy.set()
        self.refactor_stop = threading.Event()
        self.refactor_worker = self._refactor(instruction, self.refactor_stop)

    @work(thread=True, exclusive=True, group="refactor", exit_on_error=False)
    def _refactor(self, instruction: str, stop: threading.Event) -> None:
        block = self.from_thread(self._new_block, f"/refactor {instruction}")
        self.call_from_thread(block.route.update, f"{self.session.claude_model} (claude) — refactors are "
                              "planned by Claude and land on a new branch")
        self.call_from_thread(setattr, self.status, "activity", "refactoring… (Esc stops)")
        observer = TuiRefactorObserver(self, block, stop)
        try:
            report = self.session.refactor(instruction, observer, stop)
        except Cancelled:
            self.from_thread(block.add_line, "Refactor stopped; nothing was committed and your checkout "
                             "is unchanged.", "notice")
            return
        except CodeassistError as exc:
            self.from_thread(block.add_line, str(exc), "error")
            return
        finally:
            self.call_from_thread(setattr, self.status, "activity", "")
            self.refactor_busy.clear()
        self.call_from_thread(block.markdown.update, report_text(report))
        self.call_from_thread(self._update_totals)

    async def _new_block(self, text: str) -> AssistantMessage:
        pane = self.query_one("#conversation", VerticalScroll)
        await pane.mount(UserMessage(text, markup=False))
        block = AssistantMessage()
        await pane.mount(block)
        return block

    def from_thread(self, fn: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn`` on the app's event loop from a worker thread and return its result."""
        result: T = self.call_from_thread(fn, *args, **kwargs)  # type: ignore[arg-type]
        return result

    def _update_totals(self) -> None:
        totals = self.session.totals
        self.status.tokens = totals.prompt_tokens + totals.completion_tokens
        self.status.cost = totals.cost_usd

    # --- actions -------------------------------------------------------------------------
    def action_cancel(self) -> None:
        self.refactor_stop.set()  # the refactor thread stops at its next stream event or step
        for worker in (self.answer_worker, self.refactor_worker):
            if worker is not None and worker.state == WorkerState.RUNNING:
                worker.cancel()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    async def action_clear(self) -> None:
        await commands.run(self, Command("clear"))

    async def action_copy_code(self) -> None:
        await commands.run(self, Command("copy"))


class _Coalescer:
    """Streamed pieces to the Markdown stream: the first at once, then at most one write per interval,
    so a fast model does not make the widget re-render for every token (the input stays responsive)."""

    INTERVAL_S = 0.05

    def __init__(self, stream: MarkdownStream) -> None:
        self.stream = stream
        self.pending: list[str] = []
        self.last: float | None = None
        self.held = False  # True: keep pieces back (the first one is being painted as a preview)

    async def add(self, text: str) -> None:
        self.pending.append(text)
        if self.held:
            return
        if self.last is None or time.perf_counter() - self.last >= self.INTERVAL_S:
            await self.flush()

    async def flush(self) -> None:
        if self.pending:
            text = "".join(self.pending)
            self.pending.clear()
            self.last = time.perf_counter()
            await self.stream.write(text)


def _stats_line(done: Done) -> str:
    s = done.stats
    first = f", first token {s.first_token_s * 1000:.0f} ms" if s.first_token_s is not None else ""
    cost = f", ${s.cost_usd:.4f}" if s.cost_usd else ""
    return f"{s.prompt_tokens} prompt + {s.completion_tokens} answer tokens{cost}, {s.total_s:.1f} s{first}"
