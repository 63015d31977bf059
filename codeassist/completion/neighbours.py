"""What a request may reuse from the one before it, at a neighbouring position.

While the user types on one line, each keystroke asks again a character further on. The context
chosen for the first position in a window is kept for the following ones: it leads the prompt, so
a chunk that changed with a typed character would miss the server's prompt cache for the whole
prompt. And a request made while typing is known to be one: its suggestion finishes the line,
fast, where a new line or a jump elsewhere gets the budget's multi-line answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from codeassist.completion.types import ContextChunk
from codeassist.completion.windows import CursorWindow


@dataclass(frozen=True)
class _Position:
    path: str
    start_line: int  # the window's first line
    line: int
    line_prefix: str
    chunks: tuple[ContextChunk, ...]


class LastPosition:
    """The last real request's position and context (a speculative request only borrows them)."""

    def __init__(self) -> None:
        self._last: _Position | None = None

    def typing(self, path: str, window: CursorWindow) -> bool:
        """Whether the user is typing on the line of the last request: its text before the cursor
        grew or shrank by what was typed, and holds more than indentation."""
        last = self._last
        if last is None or last.path != path or last.line != window.line or not window.line_prefix.strip():
            return False
        now, then = window.line_prefix, last.line_prefix
        return now != then and (now.startswith(then) or then.startswith(now))

    def context(self, path: str, window: CursorWindow) -> tuple[ContextChunk, ...] | None:
        """The last request's context when this position is in the same window of the document
        (the window's start moves every few lines): the context changes as the cursor moves on,
        not with every keystroke, and the prompt the server cached stays valid up to the cursor."""
        last = self._last
        if last is not None and (last.path, last.start_line) == (path, window.start_line):
            return last.chunks
        return None

    def remember(self, path: str, window: CursorWindow, chunks: tuple[ContextChunk, ...]) -> None:
        self._last = _Position(path, window.start_line, window.line, window.line_prefix, chunks)

    def forget(self) -> None:
        self._last = None
