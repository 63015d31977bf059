"""The Textual chat's renderer of slash-command effects (what commands do lives in ``codeassist.chat``).

It knows the app only through :class:`ChatSurface`, so this module and the app do not import
each other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from textual.containers import VerticalScroll
from textual.screen import Screen

from codeassist.chat import (
    Answer,
    ChatSession,
    ClearConversation,
    Command,
    Confirm,
    CopyCode,
    Effect,
    OpenRefactor,
    Quit,
    Route,
    RouteChanged,
    ShowCode,
    ShowHelp,
    ShowTable,
    ShowText,
    WriteSnippet,
    run_command,
)
from codeassist.tui.screens import ConfirmScreen, HelpScreen
from codeassist.tui.widgets import StatusLine

__all__ = ["ChatSurface", "render", "run"]


class ChatSurface(Protocol):
    """What the renderer needs from the Textual app."""

    session: ChatSession
    status: StatusLine

    def ask(self, text: str, force: Route | None = None) -> None: ...
    def snippet(self, instruction: str) -> None: ...
    def refactor(self, instruction: str) -> None: ...
    async def say(self, text: str, kind: str = "system") -> None: ...
    async def show_markdown(self, text: str) -> None: ...
    def conversation(self) -> VerticalScroll: ...
    def push_screen(self, screen: Screen[Any], callback: Callable[[Any], None] | None = None) -> Any: ...
    def call_later(self, callback: Callable[..., Any], *args: Any) -> bool: ...
    def copy_to_clipboard(self, text: str) -> None: ...
    def notify(self, message: str, *, severity: Any = "information") -> None: ...
    def exit(self) -> None: ...


async def run(app: ChatSurface, command: Command) -> None:
    """Run ``command`` in the core and render its effects."""
    await render(app, run_command(app.session, command))


async def render(app: ChatSurface, effects: Sequence[Effect]) -> None:
    for effect in effects:
        await _render_one(app, effect)


async def _render_one(app: ChatSurface, effect: Effect) -> None:
    if isinstance(effect, ShowText):
        await app.say(effect.text, effect.kind)
    elif isinstance(effect, ShowCode):
        await app.show_markdown(f"{effect.title}:\n\n```\n{effect.code}\n```")
    elif isinstance(effect, ShowTable):
        rows = [f"| {' | '.join(effect.columns)} |", "|" + "---|" * len(effect.columns)]
        rows += [f"| `{first}` | {' | '.join(rest)} |" for first, *rest in effect.rows]
        await app.show_markdown("\n".join(rows))
    elif isinstance(effect, ShowHelp):
        app.push_screen(HelpScreen())
    elif isinstance(effect, Confirm):
        _confirm(app, effect)
    elif isinstance(effect, Answer):
        app.ask(effect.text, force=effect.force)
    elif isinstance(effect, WriteSnippet):
        app.snippet(effect.instruction)
    elif isinstance(effect, OpenRefactor):
        app.refactor(effect.instruction)
    elif isinstance(effect, CopyCode):
        app.copy_to_clipboard(effect.code)
        app.notify(f"Copied {len(effect.code.splitlines())} lines to the clipboard.")
    elif isinstance(effect, RouteChanged):
        app.status.route = effect.mode
    elif isinstance(effect, ClearConversation):
        await app.conversation().remove_children()
    elif isinstance(effect, Quit):
        app.exit()


def _confirm(app: ChatSurface, effect: Confirm) -> None:
    def answered(yes: bool | None) -> None:
        app.call_later(render, app, effect.on_yes() if yes else effect.on_no())

    app.push_screen(ConfirmScreen(effect.question, effect.preview, effect.language), answered)
