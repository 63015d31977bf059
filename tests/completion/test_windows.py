"""The cursor window: token budgets, aligned start, bad positions."""

from __future__ import annotations

import pytest

from codeassist.completion.tokens import EstimatingCounter, LineCounter
from codeassist.completion.windows import (
    START_ALIGN,
    check_position,
    cursor_window,
    longer_suffix,
    split_lines,
    widened,
    with_suffix,
)
from codeassist.errors import UsageError


class CountingCounter:
    """Counts one token per character and remembers how often it was asked."""

    def __init__(self) -> None:
        self.calls = 0

    def count(self, text: str) -> int:
        self.calls += 1
        return len(text)


LINES = [f"line_{i:03d} = {i}" for i in range(200)]


def test_window_splits_at_the_cursor() -> None:
    counter = LineCounter(EstimatingCounter())
    window = cursor_window(LINES, 100, 5, counter, prefix_tokens=10_000, suffix_tokens=10_000)
    assert window.line_prefix == "line_"
    assert window.line_suffix == "100 = 100"
    assert window.before.endswith("line_099 = 99\n")
    assert window.after.startswith("\nline_101 = 101")
    assert window.next_lines[0] == "line_101 = 101"
    assert window.prefix + window.suffix == "\n".join(LINES[window.start_line:window.end_line])


def test_typing_on_the_cursor_line_never_moves_the_start() -> None:
    counter = LineCounter(CountingCounter())  # a token per character: every typed key costs one
    lines = list(LINES)
    starts = set()
    for typed in range(0, 60):
        lines[150] = "x" * typed
        window = cursor_window(lines, 150, typed, counter, prefix_tokens=211, suffix_tokens=0)
        starts.add(window.start_line)
    assert len(starts) == 1


def test_window_respects_token_budgets_and_aligns_start() -> None:
    counter = LineCounter(CountingCounter())
    window = cursor_window(LINES, 150, 0, counter, prefix_tokens=15 * 20, suffix_tokens=15 * 5)
    assert window.start_line % START_ALIGN == 0
    assert window.prefix_tokens <= 15 * 20
    assert 150 - window.start_line < 20
    assert window.end_line - 151 <= 5
    # typing on the cursor line keeps the start where it was
    moved = [*LINES[:150], "line_150 = 150 + extra", *LINES[151:]]
    again = cursor_window(moved, 150, 3, counter, prefix_tokens=15 * 20, suffix_tokens=15 * 5)
    assert again.start_line == window.start_line


def test_line_counts_are_memoised() -> None:
    base = CountingCounter()
    counter = LineCounter(base)
    cursor_window(LINES, 150, 0, counter, prefix_tokens=2000, suffix_tokens=500)
    first = base.calls
    cursor_window(LINES, 150, 4, counter, prefix_tokens=2000, suffix_tokens=500)
    assert base.calls == first


def test_line_limits_apply_with_a_large_budget() -> None:
    counter = LineCounter(EstimatingCounter())
    window = cursor_window(LINES, 199, 0, counter, prefix_tokens=10**6, suffix_tokens=10**6,
                           max_prefix_lines=40, max_suffix_lines=10)
    assert 199 - window.start_line <= 40
    assert window.end_line == 200


@pytest.mark.parametrize(("line", "col", "message"), [
    (5, 0, "Line 6 is outside"),
    (-1, 0, "Line 0 is outside"),
    (0, 4, "Column 5 is outside line 1"),
])
def test_bad_positions_are_usage_errors(line: int, col: int, message: str) -> None:
    lines = split_lines("abc\r\ndef\n")
    assert lines == ["abc", "def", ""]
    with pytest.raises(UsageError, match=message):
        check_position(lines, line, col, "x.py")


def test_a_shorter_suffix_keeps_everything_up_to_the_cursor() -> None:
    counter = LineCounter(CountingCounter())  # a token per character and one for the line break
    lines = [*LINES[:101], "", "", *LINES[101:]]  # blank lines right after the cursor line
    window = cursor_window(lines, 100, 5, counter, prefix_tokens=400, suffix_tokens=400)
    short = with_suffix(window, counter, 20)
    assert (short.before, short.line_prefix, short.line_suffix, short.start_line) == (
        window.before, window.line_prefix, window.line_suffix, window.start_line)
    # the blank lines, then one line of code: at least one, even past the 20 tokens
    assert short.next_lines == ["", "", "line_101 = 101"]
    assert short.end_line == 104 and short.suffix_tokens == 1 + 1 + 15
    assert window.suffix.startswith(short.suffix)


def test_a_widened_window_takes_more_lines_above_and_keeps_the_rest() -> None:
    counter = LineCounter(CountingCounter())
    window = cursor_window(LINES, 150, 5, counter, prefix_tokens=15 * 20, suffix_tokens=15 * 5)
    wider = widened(window, LINES, counter, 15 * 16)
    assert wider.start_line < window.start_line and wider.start_line % START_ALIGN == 0
    assert wider.before.endswith(window.before) and wider.prefix_tokens <= 15 * 36 + 15
    assert (wider.line_prefix, wider.suffix, wider.end_line) == (window.line_prefix, window.suffix,
                                                                  window.end_line)
    # widening is from the first cut: the same window widened twice is widened once
    assert widened(wider, LINES, counter, 15 * 16) == wider
    # nothing to add, or nothing left above: the window itself
    assert widened(window, LINES, counter, 0) is window
    top = cursor_window(LINES, 3, 0, counter, prefix_tokens=10_000, suffix_tokens=0)
    assert widened(top, LINES, counter, 500) is top


def test_a_longer_suffix_keeps_everything_up_to_the_cursor() -> None:
    counter = LineCounter(CountingCounter())  # a token per character and one for the line break
    window = cursor_window(LINES, 5, 3, counter, prefix_tokens=400, suffix_tokens=15 * 2)
    assert window.start_line == 0 and window.end_line == 8  # the file's start; two lines below
    longer = longer_suffix(window, LINES, counter, 15 * 6)
    assert (longer.before, longer.line_prefix, longer.line_suffix, longer.start_line) == (
        window.before, window.line_prefix, window.line_suffix, window.start_line)
    assert longer.next_lines == LINES[6:12] and longer.suffix_tokens <= 15 * 6
    assert longer.suffix.startswith(window.suffix)
    # no more tokens than it has, or nothing left below: the window itself
    assert longer_suffix(window, LINES, counter, 15) is window
    end = cursor_window(LINES, 199, 0, counter, prefix_tokens=100, suffix_tokens=100)
    assert longer_suffix(end, LINES, counter, 500) is end
