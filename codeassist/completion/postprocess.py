"""Post-processing of raw model output into a suggestion worth showing.

Each rule is a small pure function with its own golden tests (tests/completion/test_postprocess.py).
:func:`postprocess` applies them in order; an empty string means "show nothing".
"""

from __future__ import annotations

from dataclasses import dataclass

_OPENERS = "([{"
_CLOSERS = ")]}"
_BLOCK_OPENERS = (":", "{", "(", "[")


@dataclass(frozen=True)
class Surroundings:
    """What is around the cursor, as the rules need it."""

    line_prefix: str  # cursor line up to the cursor
    line_suffix: str  # cursor line after the cursor
    next_lines: tuple[str, ...]  # the document lines after the cursor line (a window of them)


def indent_width(line: str) -> int:
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip(" "))


def _first_nonblank(lines: tuple[str, ...] | list[str]) -> str | None:
    return next((ln for ln in lines if ln.strip()), None)


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def single_line_when_mid_line(text: str, around: Surroundings) -> str:
    """With text after the cursor on its line, only the rest of that line is suggested."""
    if around.line_suffix.strip():
        return text.split("\n", 1)[0]
    return text


def stop_at_scope_end(text: str, around: Surroundings) -> str:
    """Cut a multi-line suggestion where it leaves the cursor's block (dedent).

    After a block opener before the cursor (``def f():``, ``{``, ``(``) the body ends at the
    opener's indentation (a closing-bracket-only line there is kept, and ends it); elsewhere it
    ends at the first line indented less than the cursor line.
    """
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    head = around.line_prefix + lines[0]
    if head.strip():
        base = indent_width(head)
        opener = not lines[0].strip() and head.rstrip().endswith(_BLOCK_OPENERS)
    else:
        first = _first_nonblank(lines[1:])
        if first is None:
            return text
        base, opener = indent_width(first), False
    kept = [lines[0]]
    for line in lines[1:]:
        if not line.strip():
            kept.append(line)
            continue
        width = indent_width(line)
        if width < base:
            break
        if opener and width == base:
            if line.strip() and all(ch in _CLOSERS + ";," for ch in line.strip()):
                kept.append(line)
            break
        kept.append(line)
    return "\n".join(kept)


def cut_at_repeated_line(text: str) -> str:
    """Cut a multi-line suggestion where it starts repeating itself (a model stuck in a loop
    writes the same lines again and again). Short lines (``}``, ``pass``, ``else:``) may repeat."""
    lines = text.split("\n")
    seen: set[str] = set()
    for i, line in enumerate(lines):
        key = line.strip()
        if len(key) < 6 or not any(ch.isalnum() for ch in key):
            continue
        if key in seen:
            return "\n".join(lines[:i]).rstrip("\n")
        seen.add(key)
    return text


def cut_where_suffix_resumes(text: str, around: Surroundings) -> str:
    """Cut a multi-line suggestion at the line where the document's following lines begin again."""
    lines = text.split("\n")
    following = [ln.strip() for ln in around.next_lines if ln.strip()]
    if len(lines) == 1 or not following:
        return text
    for i in range(1, len(lines)):
        if lines[i].strip() != following[0]:
            continue
        rest = [ln.strip() for ln in lines[i + 1:] if ln.strip()]
        if len(following[0]) >= 4 or (rest and len(following) > 1 and rest[0] == following[1]):
            return "\n".join(lines[:i]).rstrip("\n")
    return text


def drop_if_code_follows_unretyped(text: str, around: Surroundings) -> str:
    """Nothing when a word (a name, a keyword, a number) follows the cursor on its line and the
    suggestion does not end by retyping it: put in front of that code it only makes a mess (a
    docstring before ``return x``). Closing brackets, quotes and punctuation after the cursor are
    fine (editors insert them in pairs)."""
    tail = around.line_suffix.strip()
    if not tail or not (tail[0].isalnum() or tail[0] in "_$@"):
        return text
    return text if text.rstrip().endswith(around.line_suffix.rstrip()) else ""


def _depth(text: str) -> int:
    return sum(1 for ch in text if ch in _OPENERS) - sum(1 for ch in text if ch in _CLOSERS)


def trim_suffix_overlap(text: str, around: Surroundings) -> str:
    """Drop the end of a one-line suggestion that retypes the text after the cursor.

    The whole rest of the line retyped is dropped; an overlap made only of closing brackets is
    dropped when keeping it would close more brackets than the line opens.
    """
    if "\n" in text:
        return text
    tail = around.line_suffix.rstrip()
    if not tail:
        return text
    body = text.rstrip()
    retypes_word = any(ch not in _CLOSERS for ch in tail)
    if retypes_word and body.endswith(tail) and len(body) > len(tail):
        return body[: -len(tail)]
    excess = -_depth(around.line_prefix + body + around.line_suffix)
    if excess <= 0:
        return text
    for k in range(min(len(tail), len(body) - 1, excess), 0, -1):
        overlap = tail[:k]
        if body.endswith(overlap) and all(ch in _CLOSERS for ch in overlap):
            return body[:-k]
    return text


def strip_trailing_whitespace(text: str) -> str:
    """No trailing spaces on any line, no trailing blank lines."""
    return "\n".join(line.rstrip() for line in text.split("\n")).rstrip("\n")


def drop_if_repeats_next_line(text: str, around: Surroundings) -> str:
    """Nothing when the first new line of the suggestion is the line that already follows."""
    following = _first_nonblank(around.next_lines)
    if following is None:
        return text
    lines = text.split("\n")
    if lines[0].strip():
        first = around.line_prefix + lines[0] + (around.line_suffix if len(lines) == 1 else "")
    else:
        first = _first_nonblank(lines[1:]) or ""
    if first.strip() and first.strip() == following.strip():
        return ""
    return text


def enforce_min_length(text: str, min_chars: int) -> str:
    """Nothing when the suggestion has fewer than ``min_chars`` visible characters."""
    return text if len("".join(text.split())) >= min_chars else ""


def postprocess(raw: str, around: Surroundings, *, min_chars: int = 2) -> str:
    text = normalize_newlines(raw)
    text = single_line_when_mid_line(text, around)
    text = stop_at_scope_end(text, around)
    text = cut_at_repeated_line(text)
    text = cut_where_suffix_resumes(text, around)
    text = drop_if_code_follows_unretyped(text, around)
    text = trim_suffix_overlap(text, around)
    text = strip_trailing_whitespace(text)
    text = drop_if_repeats_next_line(text, around)
    return enforce_min_length(text, min_chars)
