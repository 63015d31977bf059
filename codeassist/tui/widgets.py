"""Widgets of the chat screen: messages, the answer's streaming Markdown, the input, the status line."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.reactive import reactive
from textual.suggester import Suggester
from textual.widgets import Input, Markdown, Static
from textual.widgets.markdown import MarkdownBlock, MarkdownFence

from codeassist.chat import complete_line

__all__ = ["AnswerMarkdown", "AssistantMessage", "ChatInput", "CopyableFence", "StatusLine", "UserMessage"]


class CopyableFence(MarkdownFence):
    """A highlighted code block; a click copies its code to the clipboard."""

    DEFAULT_CSS = """
    CopyableFence { border-left: outer $accent 50%; }
    CopyableFence:hover { border-left: outer $accent; }
    """

    def on_click(self, event: events.Click) -> None:
        self.app.copy_to_clipboard(self.code)
        lines = self.code.count("\n") + (0 if self.code.endswith("\n") else 1)
        self.app.notify(f"Copied the code block ({lines} lines) to the clipboard.", timeout=3)


class AnswerMarkdown(Markdown):
    """The answer's Markdown; once it has text it takes the place of the plain preview line."""

    BLOCKS: dict[str, type[MarkdownBlock]] = {  # noqa: RUF012 - overrides Markdown's own table
        **Markdown.BLOCKS, "fence": CopyableFence, "code_block": CopyableFence}

    def __init__(self, preview: Static | None = None) -> None:
        super().__init__("")
        self._preview = preview

    async def append(self, markdown: str) -> None:  # type: ignore[override]
        await super().append(markdown)
        if markdown and self._preview is not None and self._preview.display:
            self._preview.display = False


class UserMessage(Static):
    DEFAULT_CSS = """
    UserMessage { margin: 1 0 0 0; padding: 0 1; background: $boost; color: $text; text-style: bold; }
    """


class AssistantMessage(Vertical):
    """One answer: the route line (which model answered and why), notices, the streamed Markdown."""

    DEFAULT_CSS = """
    AssistantMessage { height: auto; margin: 0 0 1 0; }
    AssistantMessage > .route { color: $text-muted; padding: 0 1; }
    AssistantMessage > .notice { color: $warning; padding: 0 1; }
    AssistantMessage > .error { color: $error; padding: 0 1; }
    AssistantMessage > .stats { color: $text-muted; padding: 0 1; }
    AssistantMessage > AnswerMarkdown { margin: 0 1; }
    AssistantMessage > .preview { padding: 0 1 0 2; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.route = Static("…", classes="route")
        self.preview = Static("", classes="preview", markup=False)
        self.preview.display = False
        self.markdown = AnswerMarkdown(self.preview)

    def compose(self) -> ComposeResult:
        yield self.route
        yield self.preview
        yield self.markdown

    def show_first(self, text: str, on_painted: Callable[[float], None]) -> None:
        """Paint the first streamed text at once, as plain text: mounting the first Markdown block
        takes a while, and the Markdown replaces this line as soon as it has caught up."""
        self.preview.update(text)
        self.preview.display = True
        self.preview.call_after_refresh(lambda: on_painted(time.perf_counter()))

    async def add_line(self, text: str, kind: str) -> None:
        await self.mount(Static(text, classes=kind, markup=False))


class StatusLine(Static):
    """Model and route, model-server state, tokens and session cost, in one line."""

    DEFAULT_CSS = """
    StatusLine { height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    """

    model: reactive[str] = reactive("")
    route: reactive[str] = reactive("auto")
    server: reactive[str] = reactive("not started")
    tokens: reactive[int] = reactive(0)
    cost: reactive[float] = reactive(0.0)
    activity: reactive[str] = reactive("")

    def render(self) -> str:
        parts = [f"{self.model} · route {self.route}", f"server {self.server}",
                 f"{self.tokens:,} tokens", f"${self.cost:.4f}"]
        if self.activity:
            parts.append(self.activity)
        return "  │  ".join(parts)


class PathSuggester(Suggester):
    """Inline suggestions for slash commands and file paths (Tab or → accepts)."""

    def __init__(self, root_getter: Callable[[], str]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self._root = root_getter

    async def get_suggestion(self, value: str) -> str | None:
        options = complete_line(value, self._root())
        return options[0] if options else None


class ChatInput(Input):
    """The prompt: ↑/↓ walk the input history, Tab accepts the suggestion."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "history(-1)", "Previous input", show=False),
        Binding("down", "history(1)", "Next input", show=False),
        Binding("tab", "accept_suggestion", "Complete", show=False),
    ]

    def __init__(self, root_getter: Callable[[], str], history: list[str] | None = None) -> None:
        super().__init__(placeholder="Ask about the code, or /help", suggester=PathSuggester(root_getter),
                         id="prompt")
        self.entries: list[str] = list(history or [])
        self._cursor = len(self.entries)

    def remember(self, text: str) -> None:
        if text and (not self.entries or self.entries[-1] != text):
            self.entries.append(text)
        self._cursor = len(self.entries)

    def action_history(self, step: int) -> None:
        if not self.entries:
            return
        self._cursor = max(0, min(len(self.entries), self._cursor + step))
        self.value = self.entries[self._cursor] if self._cursor < len(self.entries) else ""
        self.cursor_position = len(self.value)

    def action_accept_suggestion(self) -> None:
        """Tab takes the suggestion, as → does at the end of the line (Textual's public action)."""
        self.cursor_position = len(self.value)
        self.action_cursor_right()
