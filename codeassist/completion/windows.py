"""The cursor window: prefix and suffix around the cursor, sized in tokens.

The prefix window's first line is snapped to a multiple of :data:`START_ALIGN` lines, so while
the user types the window start (and with it the prompt the server has cached) stays put.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from codeassist.completion.tokens import LineCounter
from codeassist.errors import UsageError

START_ALIGN = 8


@dataclass(frozen=True)
class CursorWindow:
    before: str  # whole lines above the cursor line inside the window, each ending with "\n"
    line_prefix: str  # cursor line up to the cursor
    line_suffix: str  # cursor line after the cursor
    after: str  # whole lines below the cursor line inside the window, each starting with "\n"
    line: int  # the cursor line (0-based)
    start_line: int  # first line of the window
    end_line: int  # one past the last line of the window
    prefix_tokens: int
    suffix_tokens: int
    prefix_limit: int  # the budget the lines above were cut to (``prefix_tokens`` of the cut)

    @property
    def prefix(self) -> str:
        return self.before + self.line_prefix

    @property
    def suffix(self) -> str:
        return self.line_suffix + self.after

    @property
    def next_lines(self) -> list[str]:
        """The lines after the cursor line inside the window."""
        return self.after.split("\n")[1:] if self.after else []


def with_suffix(window: CursorWindow, counter: LineCounter, tokens: int) -> CursorWindow:
    """``window`` with only as many lines after the cursor line as fit ``tokens`` (at least one
    line of code when there is one): the same prompt up to the cursor, less to process after it."""
    kept: list[str] = []
    used = 0
    for text in window.next_lines:
        cost = counter.line(text)
        if used + cost > tokens and any(k.strip() for k in kept):
            break
        kept.append(text)
        used += cost
    return replace(window, after="".join("\n" + text for text in kept), end_line=window.line + 1 + len(kept),
                   suffix_tokens=used)


def longer_suffix(window: CursorWindow, lines: list[str], counter: LineCounter, tokens: int) -> CursorWindow:
    """``window`` with as many lines after the cursor line as fit ``tokens`` (the lines up to the
    cursor stay as they are): a window that holds the file's start gives the budget it left to
    the code below the cursor."""
    if tokens <= window.suffix_tokens or window.end_line >= len(lines):
        return window
    longer = cursor_window(lines, window.line, len(window.line_prefix), counter, prefix_tokens=0,
                           suffix_tokens=tokens)
    if longer.end_line <= window.end_line:
        return window
    return replace(window, after=longer.after, end_line=longer.end_line, suffix_tokens=longer.suffix_tokens)


def split_lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").split("\n")


def check_position(lines: list[str], line: int, col: int, path: str) -> None:
    if line < 0 or line >= len(lines):
        raise UsageError(
            f"Line {line + 1} is outside {path}, which has {len(lines)} lines.",
            hint="Give a line number between 1 and the number of lines in the file.",
        )
    if col < 0 or col > len(lines[line]):
        raise UsageError(
            f"Column {col + 1} is outside line {line + 1} of {path} ({len(lines[line])} characters).",
            hint="Give a column between 1 and the line length + 1.",
        )


def cursor_window(
    lines: list[str],
    line: int,
    col: int,
    counter: LineCounter,
    *,
    prefix_tokens: int,
    suffix_tokens: int,
    max_prefix_lines: int = 256,
    max_suffix_lines: int = 64,
) -> CursorWindow:
    """Cut the window around (line, col); ``lines`` must already be checked.

    ``prefix_tokens`` is the budget of the lines above the cursor line: what the user types on the
    cursor line never moves the window's start (so cached answers and the server's prompt cache
    stay valid while typing through a suggestion)."""
    current = lines[line]
    used = 0
    start = line
    while start > 0 and line - start < max_prefix_lines:
        cost = counter.line(lines[start - 1])
        if used + cost > prefix_tokens:
            break
        used += cost
        start -= 1
    if start > 0:  # snap forward so the start only moves every START_ALIGN lines
        snapped = min(line, -(-start // START_ALIGN) * START_ALIGN)
        used -= sum(counter.line(text) for text in lines[start:snapped])
        start = snapped
    end = line + 1
    after_used = 0
    while end < len(lines) and end - line <= max_suffix_lines:
        cost = counter.line(lines[end])
        if after_used + cost > suffix_tokens:
            break
        after_used += cost
        end += 1
    used += counter.line(current)
    before = "".join(text + "\n" for text in lines[start:line])
    after = "".join("\n" + text for text in lines[line + 1:end])
    return CursorWindow(
        before=before, line_prefix=current[:col], line_suffix=current[col:], after=after,
        line=line, start_line=start, end_line=end, prefix_tokens=used, suffix_tokens=after_used,
        prefix_limit=prefix_tokens,
    )


def widened(window: CursorWindow, lines: list[str], counter: LineCounter, extra: int) -> CursorWindow:
    """``window`` with ``extra`` more tokens of lines above it (cut and snapped as
    :func:`cursor_window` cuts them; the lines from the cursor line on stay as they are)."""
    if extra <= 0 or window.start_line == 0:
        return window
    wider = cursor_window(lines, window.line, len(window.line_prefix), counter,
                          prefix_tokens=window.prefix_limit + extra, suffix_tokens=0)
    if wider.start_line >= window.start_line:
        return window
    # the limit stays the first cut's: widening the same window by as much again gives the same
    return replace(window, before=wider.before, start_line=wider.start_line,
                   prefix_tokens=wider.prefix_tokens)
