"""What a request reuses from the last one: its context on the same line, and whether the user is
typing on that line."""

from __future__ import annotations

from codeassist.completion.neighbours import LastPosition
from codeassist.completion.tokens import EstimatingCounter, LineCounter
from codeassist.completion.types import ContextChunk
from codeassist.completion.windows import CursorWindow, cursor_window

LINES = ["def area(w, h):", "    return w * h", "", "def perimeter(w, h):", "    ret", ""]
FAR = [f"value_{i} = compute({i})" for i in range(300)]
CHUNK = ContextChunk("shapes.py", 0, 2, "class Shape: ...", "definition")


def window(line: int, col: int, lines: list[str] = LINES) -> CursorWindow:
    return cursor_window(lines, line, col, LineCounter(EstimatingCounter()), prefix_tokens=200,
                         suffix_tokens=50)


def test_typing_on_the_line_of_the_last_request() -> None:
    last = LastPosition()
    assert not last.typing("a.py", window(4, 7))  # nothing asked yet
    last.remember("a.py", window(4, 4), (CHUNK,))
    typed = [*LINES[:4], "    return", ""]
    assert last.typing("a.py", window(4, 10, typed))  # "    " grew to "    return"
    assert last.typing("a.py", window(4, 7))  # backspace: "    ret" is "    return" shortened
    assert not last.typing("a.py", window(4, 4))  # the same position asked again
    assert not last.typing("b.py", window(4, 7))  # another document
    assert not last.typing("a.py", window(1, 10))  # another line


def test_the_context_is_kept_in_the_same_window() -> None:
    last = LastPosition()
    last.remember("a.py", window(4, 4), (CHUNK,))
    assert last.context("a.py", window(4, 7)) == (CHUNK,)
    assert last.context("a.py", window(1, 4)) == (CHUNK,)  # the same window: lines 0-5
    assert last.context("a.py", window(290, 0, FAR)) is None  # a window starting elsewhere
    assert last.context("b.py", window(4, 7)) is None
    last.forget()
    assert last.context("a.py", window(4, 7)) is None
