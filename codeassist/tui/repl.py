"""``codeassist chat --plain``: a line-based REPL (prompt-toolkit) over the same chat core.

History (↑/↓, kept in the XDG data dir), completion of slash commands and file paths (Tab), answers
streamed as plain text. Ctrl-C stops an answer; Ctrl-D or /quit leaves.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Iterable, Sequence
from contextlib import aclosing, suppress
from pathlib import Path
from typing import TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.input import Input
from prompt_toolkit.output import Output

from codeassist import paths
from codeassist.chat import (
    COMMANDS,
    Answer,
    ChatSession,
    Command,
    Confirm,
    CopyCode,
    Done,
    Effect,
    Notice,
    OpenRefactor,
    Quit,
    Route,
    Routed,
    ShowCode,
    ShowHelp,
    ShowTable,
    ShowText,
    Token,
    WriteSnippet,
    complete_line,
    parse_command,
    run_command,
)
from codeassist.errors import Cancelled, CodeassistError
from codeassist.refactor import CostEstimate, FileDiff, Plan, Progress

__all__ = ["PlainChat", "SlashCompleter"]


class SlashCompleter(Completer):
    """Completes slash commands and, after /add, /drop and /apply, repository paths."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        line = document.text_before_cursor
        for option in complete_line(line, self.root):
            yield Completion(option, start_position=-len(line))


class PlainChat:
    """The REPL. ``input``/``output`` are prompt-toolkit's (tests pass a pipe and a dummy);
    answers and messages go to ``out``."""

    def __init__(self, session: ChatSession, *, input: Input | None = None, output: Output | None = None,
                 out: TextIO | None = None, history: History | None = None) -> None:
        self.session = session
        self.out = out or sys.stdout
        self.prompt: PromptSession[str] = PromptSession(
            history=history or _default_history(), completer=SlashCompleter(session.root),
            complete_while_typing=False, input=input, output=output)
        self.running = True
        self.prompts_shown = 0  # how many times the REPL has waited for input (confirmations too)

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    async def run(self, *, resume: bool = False, notice: str | None = None) -> None:
        if notice:  # first: which model this is, honestly
            self.say(notice)
        self.say(f"codeassist chat in {self.session.root} — /help for commands, Ctrl-C stops an answer, "
                 "Ctrl-D quits.")
        if resume:
            stored = self.session.resume()
            self.say(f"Resumed the last conversation ({len(stored)} messages)." if stored else
                     "No earlier conversation for this repository; starting a new one.")
        while self.running:
            self.prompts_shown += 1
            try:
                text = (await self.prompt.prompt_async("you> ")).strip()
            except EOFError:
                break
            except KeyboardInterrupt:
                continue
            if text:
                await self.handle(text)

    async def handle(self, text: str) -> None:
        try:
            command = parse_command(text)
            if command is None:
                await self.answer(text[1:] if text.startswith("//") else text)
            else:
                await self.command(command)
        except Cancelled as exc:  # stopped by the user: not an error
            self.say(f"[stopped] {exc}")
        except CodeassistError as exc:
            self.say(f"error: {exc}")

    async def answer(self, text: str, force: Route | None = None) -> None:
        task = asyncio.create_task(self._stream(text, force))
        loop = asyncio.get_running_loop()
        with suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            if not task.cancelled():
                raise
            self.say("\n[stopped]")
        finally:
            with suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGINT)

    async def _stream(self, text: str, force: Route | None) -> None:
        async with aclosing(self.session.answer(text, force=force)) as events:
            async for event in events:
                if isinstance(event, Token):
                    self.out.write(event.text)
                    self.out.flush()
                elif isinstance(event, Routed):
                    self.say(f"[{event.line}]")
                elif isinstance(event, Notice):
                    self.say(f"[{event.text}]")
                elif isinstance(event, Done):
                    s = event.stats
                    cost = f", ${s.cost_usd:.4f}" if s.cost_usd else ""
                    self.say(f"\n[{s.prompt_tokens} prompt + {s.completion_tokens} answer tokens{cost}, "
                             f"{s.total_s:.1f} s]")

    async def confirm(self, question: str) -> bool:
        self.prompts_shown += 1
        reply: str = await self.prompt.prompt_async(f"{question} [y/N] ", completer=None)
        return reply.strip().lower() in {"y", "yes"}

    async def command(self, command: Command) -> None:
        """Run ``command`` in the core and print its effects."""
        await self.render(run_command(self.session, command))

    async def render(self, effects: Sequence[Effect]) -> None:
        for effect in effects:
            await self._render_one(effect)

    async def _render_one(self, effect: Effect) -> None:
        if isinstance(effect, ShowText):
            self.say(f"error: {effect.text}" if effect.kind == "error" else effect.text)
        elif isinstance(effect, ShowCode):
            self.say(f"{effect.title}:\n{effect.code}")
        elif isinstance(effect, ShowTable):
            self.say("\n".join("  " + "  ".join(row) for row in effect.rows))
        elif isinstance(effect, ShowHelp):
            self.say("\n".join(f"  {spec.usage:<24} {spec.help}" for spec in COMMANDS))
        elif isinstance(effect, Confirm):
            self.say(effect.preview)
            await self.render(effect.on_yes() if await self.confirm(effect.question) else effect.on_no())
        elif isinstance(effect, Answer):
            await self.answer(effect.text, force=effect.force)
        elif isinstance(effect, WriteSnippet):
            code = await self.session.snippet(effect.instruction)
            self.say(f"[{self.session.local_model} (local) — snippets are written by the local model]\n"
                     f"{code.rstrip()}")
        elif isinstance(effect, OpenRefactor):
            await self._refactor(effect.instruction)
        elif isinstance(effect, CopyCode):
            self.say(effect.code)  # no clipboard here: the code, to copy from the terminal
        elif isinstance(effect, Quit):
            self.running = False
        # RouteChanged, ClearConversation: nothing on screen to change in a line-based REPL

    async def _refactor(self, instruction: str) -> None:
        observer = _PlainObserver(self, asyncio.get_running_loop())
        report = await asyncio.to_thread(self.session.refactor, instruction, observer)
        self.say(f"Refactor {report.status}" + (f": {report.reason}" if report.reason else "") +
                 (f" — branch {report.branch}" if report.branch else ""))


class _PlainObserver:
    def __init__(self, chat: PlainChat, loop: asyncio.AbstractEventLoop) -> None:
        self.chat = chat
        self.loop = loop

    def progress(self, event: Progress) -> None:
        self.loop.call_soon_threadsafe(self.chat.say, f"[{event.phase}] {event.message}")

    def plan_ready(self, plan: Plan, estimate: CostEstimate) -> None:
        self.loop.call_soon_threadsafe(self.chat.say, plan.render())

    def confirm_plan(self, plan: Plan, estimate: CostEstimate) -> bool:
        ask = self.chat.confirm(f"Apply this plan (about ${estimate.usd_total:.4f})?")
        return asyncio.run_coroutine_threadsafe(ask, self.loop).result()

    def review(self, diffs: Sequence[FileDiff]) -> bool:
        for diff in diffs:
            self.loop.call_soon_threadsafe(self.chat.say, diff.diff)
        ask = self.chat.confirm(f"Create the branch with these {len(diffs)} file(s)?")
        return asyncio.run_coroutine_threadsafe(ask, self.loop).result()


def _default_history() -> History:
    path = paths.data_dir() / "prompt-history"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return InMemoryHistory()
    return FileHistory(str(path))
