"""Slash commands run once, here, for every chat surface: each returns the effects to render.

::

    for effect in run_command(session, parse_command("/map")):
        ...   # ShowText, ShowCode, ShowTable, ShowHelp, Confirm, Answer, WriteSnippet, OpenRefactor,
              # CopyCode, RouteChanged, ClearConversation, Quit

The Textual chat and the plain REPL only draw these (a Markdown block or printed lines, a modal
screen or a y/N prompt); what a command does and says is decided once, in this module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from codeassist.chat.code import preview_write, write_code
from codeassist.chat.commands import Command
from codeassist.chat.events import Route
from codeassist.errors import UsageError

if TYPE_CHECKING:
    from codeassist.chat.session import ChatSession

__all__ = [
    "Answer",
    "ClearConversation",
    "Confirm",
    "CopyCode",
    "Effect",
    "OpenRefactor",
    "Quit",
    "RouteChanged",
    "ShowCode",
    "ShowHelp",
    "ShowTable",
    "ShowText",
    "WriteSnippet",
    "run_command",
]

TextKind = Literal["system", "notice", "error"]


@dataclass(frozen=True)
class ShowText:
    """A line from codeassist itself (not from a model)."""

    text: str
    kind: TextKind = "system"


@dataclass(frozen=True)
class ShowCode:
    """A titled block of code or plain text shown as it is (the repository map)."""

    title: str
    code: str


@dataclass(frozen=True)
class ShowTable:
    """Rows of cells; the first column holds code (names)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class ShowHelp:
    """The keys and commands (``COMMANDS``)."""


@dataclass(frozen=True)
class Confirm:
    """Ask a yes/no question with a preview (a diff); the answer's effects come from a callback."""

    question: str
    preview: str
    language: str
    on_yes: Callable[[], Sequence[Effect]]
    on_no: Callable[[], Sequence[Effect]]


@dataclass(frozen=True)
class Answer:
    """Answer ``text`` with the given route (``/local QUESTION``, ``/claude QUESTION``)."""

    text: str
    force: Route


@dataclass(frozen=True)
class WriteSnippet:
    """Write a snippet with the local model (streamed by the surface: ``session.snippet``)."""

    instruction: str


@dataclass(frozen=True)
class OpenRefactor:
    """Run the refactor planner with the surface's plan and diff review (``session.refactor``)."""

    instruction: str


@dataclass(frozen=True)
class CopyCode:
    """Hand ``code`` to the user's clipboard (or print it where there is none)."""

    code: str


@dataclass(frozen=True)
class RouteChanged:
    mode: str


@dataclass(frozen=True)
class ClearConversation:
    """The conversation on screen starts again (the session has already cleared its turns)."""


@dataclass(frozen=True)
class Quit:
    pass


Effect = (ShowText | ShowCode | ShowTable | ShowHelp | Confirm | Answer | WriteSnippet | OpenRefactor
          | CopyCode | RouteChanged | ClearConversation | Quit)


def run_command(session: ChatSession, command: Command) -> list[Effect]:
    """What ``command`` does to ``session`` and what to show. Bad input raises :class:`UsageError`."""
    return _HANDLERS[command.name](session, command.arg)


def _help(session: ChatSession, arg: str) -> list[Effect]:
    return [ShowHelp()]


def _route(session: ChatSession, name: Route | Literal["auto"], arg: str) -> list[Effect]:
    if arg and name != "auto":
        return [Answer(arg, name)]
    session.mode = name
    if name == "auto":
        text = "Route: automatic again (the local model for quick work, Claude for big work)."
    else:
        text = f"Route: {name} from now on (/auto goes back to automatic routing)."
    return [RouteChanged(name), ShowText(text)]


def _add(session: ChatSession, arg: str) -> list[Effect]:
    rel = session.context.add(arg)
    count = len(session.context.files)
    return [ShowText(f"Added {rel} to the context. Files in the context: {count}.")]


def _drop(session: ChatSession, arg: str) -> list[Effect]:
    dropped = session.context.drop(arg)
    return [ShowText(f"Dropped {', '.join(dropped) or 'nothing'} from the context.")]


def _map(session: ChatSession, arg: str) -> list[Effect]:
    tokens = session.settings.index.map_tokens
    text = session.context.repo_map(tokens)
    if not text.strip():
        return [ShowText("The repository map is empty (no index yet, or no supported source files).")]
    return [ShowCode(f"Repository map ({tokens} tokens)", text.rstrip())]


def _symbols(session: ChatSession, arg: str) -> list[Effect]:
    found = session.context.symbols(arg)
    if not found:
        return [ShowText(f"No symbol matches {arg!r}.")]
    rows = tuple((s.name, s.kind, f"{s.path}:{s.line + 1}") for s in found)
    return [ShowTable(("symbol", "kind", "where"), rows)]


def _code(session: ChatSession, verb: str) -> str:
    code = session.last_snippet or session.last_code_block()
    if code is None:
        raise UsageError(f"There is no snippet or code block to {verb} yet.",
                         hint="Ask for one first, e.g. /snippet a function that parses ISO dates.")
    return code


def _apply(session: ChatSession, arg: str) -> list[Effect]:
    code = _code(session, "apply")
    rel, full = session.context.resolve(arg)
    verb = "Overwrite" if full.exists() else "Create"

    def yes() -> list[Effect]:
        try:
            write_code(full, code)
        except UsageError as exc:
            return [ShowText(str(exc), "error")]
        return [ShowText(f"Wrote {rel}.")]

    def no() -> list[Effect]:
        return [ShowText(f"Not written: {rel} is unchanged.")]

    return [Confirm(f"{verb} {rel} with this change?", preview_write(full, code) or "(no change)", "diff",
                    yes, no)]


def _copy(session: ChatSession, arg: str) -> list[Effect]:
    return [CopyCode(_code(session, "copy"))]


def _snippet(session: ChatSession, arg: str) -> list[Effect]:
    return [WriteSnippet(arg)]


def _refactor(session: ChatSession, arg: str) -> list[Effect]:
    return [OpenRefactor(arg)]


def _think(session: ChatSession, arg: str) -> list[Effect]:
    session.think = arg.lower() == "on"
    state = "on. Deeper reasoning, slower." if session.think else "off. Fast replies."
    return [ShowText(f"Thinking for local answers: {state}")]


def _cost(session: ChatSession, arg: str) -> list[Effect]:
    t = session.totals
    return [ShowText(
        f"This session: {t.claude_calls} Claude answer(s), {t.local_calls} local answer(s), "
        f"{t.prompt_tokens:,} prompt + {t.completion_tokens:,} answer tokens, ${t.cost_usd:.4f} on Claude "
        "(local answers are free). `codeassist cost` summarises every day.")]


def _model(session: ChatSession, arg: str) -> list[Effect]:
    claude = session.claude_model if session.claude_ready else "not set up"
    if not session.cloud_allowed:
        claude = "off (offline mode)"
    needs_key = session.cloud_allowed and not session.claude_ready
    needs_key = session.cloud_allowed and not session.claude_ready
    hint = " Set ANTHROPIC_API_KEY to use Claude." if needs_key else ""
    return [ShowText(f"Local: {session.local_model}. Claude: {claude}. Route: {session.mode}. "
                     f"Thinking: {'on' if session.think else 'off'}.{hint}")]


def _clear(session: ChatSession, arg: str) -> list[Effect]:
    session.clear()
    return [ClearConversation(),
            ShowText("New conversation (the previous one stays in the history: `codeassist chat --resume`).")]


def _quit(session: ChatSession, arg: str) -> list[Effect]:
    return [Quit()]


_HANDLERS: dict[str, Callable[[ChatSession, str], list[Effect]]] = {
    "help": _help,
    "local": lambda s, arg: _route(s, "local", arg),
    "claude": lambda s, arg: _route(s, "claude", arg),
    "auto": lambda s, arg: _route(s, "auto", ""),
    "add": _add, "drop": _drop, "map": _map, "symbols": _symbols, "snippet": _snippet, "apply": _apply,
    "copy": _copy, "refactor": _refactor, "think": _think, "cost": _cost, "model": _model, "clear": _clear,
    "quit": _quit,
}
