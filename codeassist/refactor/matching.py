"""Where an edit goes: exact-unique ``str_replace`` with a safe, reported tolerance.

Policy (never a guessed place):

1. **Exact**: ``old`` must occur exactly once (with the file's own line endings).
2. **Whitespace-tolerant**: lines compared without trailing whitespace; leading whitespace may
   differ by one consistent indentation shift across all lines. Must be unique; ``new`` is
   re-indented by the same shift.
3. **Elisions**: ``...`` marker lines (bare, or as a comment: ``# ...``, ``// ...``) in both ``old``
   and ``new`` split the edit into pieces; each piece must match uniquely after the previous one.

Anything else raises :class:`~codeassist.errors.EditError` with a message precise enough for the
model to fix its call (the line numbers of every occurrence, or the closest line).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Literal

from codeassist.errors import EditError

MatchKind = Literal["exact", "whitespace", "elision"]
_TAB = 4
_WORDS = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
_MARKER = re.compile(r"^[ \t]*(?:\.\.\.|(?:#|//|--|;|/\*|<!--)[ \t]*(?:\.\.\.|…).*)[ \t]*$")


@dataclass(frozen=True)
class Applied:
    text: str
    how: MatchKind
    line: int  # 1-based first line of the replaced region


@dataclass(frozen=True)
class _Shift:
    """How the file's indentation relates to the model's: add or remove a prefix, or a width delta."""

    add: str | None = None
    remove: str | None = None
    delta: int = 0
    tabs: bool = False

    def apply(self, line: str) -> str:
        if not line.strip():
            return ""
        if self.add is not None:
            return self.add + line
        if self.remove is not None and line.startswith(self.remove):
            return line[len(self.remove):]
        body = line.lstrip(" \t")
        width = max(0, _width(line[: len(line) - len(body)]) + self.delta)
        indent = "\t" * (width // _TAB) + " " * (width % _TAB) if self.tabs else " " * width
        return indent + body


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _width(ws: str) -> int:
    return len(ws.expandtabs(_TAB))


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def occurrences(text: str, needle: str) -> list[int]:
    """Start offsets of every (possibly overlapping) occurrence."""
    found: list[int] = []
    start = text.find(needle)
    while start != -1:
        found.append(start)
        start = text.find(needle, start + 1)
    return found


def replace_unique(text: str, old: str, new: str, *, path: str = "the file") -> Applied:
    """Replace the one place ``old`` denotes in ``text`` by ``new`` (see the module policy)."""
    if not old:
        raise EditError(f"`old_str` is empty for {path}. Give the exact text to replace, or use "
                        "`insert` to add lines or `create` for a new file.")
    old_n, new_n = old, new
    if "\r\n" in text and "\r" not in old:
        old_n, new_n = old.replace("\n", "\r\n"), new.replace("\n", "\r\n")
    starts = occurrences(text, old_n)
    if len(starts) == 1:
        s = starts[0]
        return Applied(text[:s] + new_n + text[s + len(old_n):], "exact", _line_of(text, s))
    if len(starts) > 1:
        numbers = sorted({_line_of(text, s) for s in starts})
        raise EditError(
            f"No replacement was performed: `old_str` matches {len(starts)} places in {path} "
            f"(lines {_list(numbers)}). Include more surrounding lines in `old_str` so that it matches "
            "exactly one place."
        )
    lines = text.split("\n")
    result = _tolerant(lines, old, new, path)
    if result is None:
        result = _elided(lines, old, new, path)
    if result is None:
        raise EditError(_no_match_message(lines, old, path))
    return result


def _list(numbers: list[int], limit: int = 8) -> str:
    shown = ", ".join(str(n) for n in numbers[:limit])
    return shown + (f" and {len(numbers) - limit} more" if len(numbers) > limit else "")


def _split_block(block: str) -> list[str]:
    parts = [p.rstrip("\r") for p in block.split("\n")]
    if parts and parts[-1] == "" and block.endswith("\n"):
        parts.pop()
    return parts


def _trim_blank(lines: list[str]) -> tuple[list[str], int, int]:
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end], start, len(lines) - end


def _drop_blank(lines: list[str], lead: int, trail: int) -> list[str]:
    out = list(lines)
    while lead and out and not out[0].strip():
        out.pop(0)
        lead -= 1
    while trail and out and not out[-1].strip():
        out.pop()
        trail -= 1
    return out


def _shift_for(window: list[str], old_lines: list[str]) -> _Shift | None:
    """The consistent indentation shift mapping ``old_lines`` onto ``window``, or None."""
    pairs: list[tuple[str, str]] = []
    for have, want in zip(window, old_lines, strict=True):
        if have.strip() != want.strip():
            return None
        if want.strip():
            pairs.append((_indent(have), _indent(want)))
    if not pairs:
        return None
    first_have, first_want = pairs[0]
    if first_have.endswith(first_want):
        prefix = first_have[: len(first_have) - len(first_want)]
        if all(h == prefix + w for h, w in pairs):
            return _Shift(add=prefix)
    if first_want.endswith(first_have):
        prefix = first_want[: len(first_want) - len(first_have)]
        if all(w == prefix + h for h, w in pairs):
            return _Shift(remove=prefix)
    deltas = {_width(h) - _width(w) for h, w in pairs}
    if len(deltas) != 1:
        return None
    tabs = all("\t" in h and " " not in h for h, _ in pairs if h)
    return _Shift(delta=deltas.pop(), tabs=tabs)


def _windows(lines: list[str], old_lines: list[str], lo: int, hi: int) -> list[tuple[int, _Shift]]:
    first = old_lines[0].strip()
    found: list[tuple[int, _Shift]] = []
    size = len(old_lines)
    for i in range(lo, hi - size + 1):
        if lines[i].strip() != first:
            continue
        shift = _shift_for([ln.rstrip("\r") for ln in lines[i: i + size]], old_lines)
        if shift is not None:
            found.append((i, shift))
    return found


def _splice(lines: list[str], start: int, size: int, new_lines: list[str]) -> list[str]:
    cr = "\r" if start < len(lines) and lines[start].endswith("\r") else ""
    return lines[:start] + [ln + cr for ln in new_lines] + lines[start + size:]


def _tolerant(lines: list[str], old: str, new: str, path: str) -> Applied | None:
    old_lines, lead, trail = _trim_blank([ln.rstrip() for ln in _split_block(old)])
    if not old_lines:
        return None
    found = _windows(lines, old_lines, 0, len(lines))
    if not found:
        return None
    if len(found) > 1:
        raise EditError(
            f"No replacement was performed: `old_str` matches no place in {path} exactly, and "
            f"{len(found)} places when whitespace is ignored (lines {_list([i + 1 for i, _ in found])}). "
            "Copy the exact text of the one place you mean, with more surrounding lines."
        )
    start, shift = found[0]
    new_lines = [shift.apply(ln) for ln in _drop_blank(_split_block(new), lead, trail)]
    spliced = _splice(lines, start, len(old_lines), new_lines)
    return Applied("\n".join(spliced), "whitespace", start + 1)


def _pieces(block: str) -> list[list[str]]:
    pieces: list[list[str]] = [[]]
    for line in _split_block(block):
        if _MARKER.match(line):
            pieces.append([])
        else:
            pieces[-1].append(line.rstrip())
    return pieces


def _elided(lines: list[str], old: str, new: str, path: str) -> Applied | None:
    old_pieces, new_pieces = _pieces(old), _pieces(new)
    if len(old_pieces) == 1:
        return None
    if len(old_pieces) != len(new_pieces):
        raise EditError(
            f"No replacement was performed in {path}: `old_str` elides code with {len(old_pieces) - 1} "
            f"`...` line(s) but `new_str` has {len(new_pieces) - 1}. Keep the same `...` lines in both, "
            "or copy the full text instead of eliding it."
        )
    plan: list[tuple[int, int, list[str]]] = []
    cursor = 0
    for old_piece, new_piece in zip(old_pieces, new_pieces, strict=True):
        trimmed, lead, trail = _trim_blank(old_piece)
        if not trimmed:
            if any(ln.strip() for ln in new_piece):
                raise EditError(
                    f"No replacement was performed in {path}: new text stands next to a `...` line with "
                    "no old text to anchor it. Put the lines around the new text in `old_str`."
                )
            continue
        found = _windows(lines, trimmed, cursor, len(lines))
        exact = [(i, s) for i, s in found if s.add == ""]  # identical lines win over tolerant ones
        found = exact if len(exact) == 1 else found
        if len(found) != 1:
            return None if not found else _ambiguous_piece(path, trimmed, found)
        start, shift = found[0]
        plan.append((start, len(trimmed), [shift.apply(ln) for ln in _drop_blank(new_piece, lead, trail)]))
        cursor = start + len(trimmed)
    if not plan:
        return None
    for start, size, new_lines in reversed(plan):
        lines = _splice(lines, start, size, new_lines)
    return Applied("\n".join(lines), "elision", plan[0][0] + 1)


def _ambiguous_piece(path: str, piece: list[str], found: list[tuple[int, _Shift]]) -> Applied:
    raise EditError(
        f"No replacement was performed: the part of `old_str` starting `{piece[0].strip()}` matches "
        f"{len(found)} places in {path} (lines {_list([i + 1 for i, _ in found])}). Avoid `...` "
        "elisions or include more lines so that every part matches one place."
    )


def _no_match_message(lines: list[str], old: str, path: str) -> str:
    wanted = next((ln.strip() for ln in _split_block(old) if ln.strip()), "")
    message = (f"No replacement was performed: `old_str` does not appear in {path} (not even when "
               "whitespace is ignored).")
    stripped = [ln.strip() for ln in lines]
    words = set(_WORDS.findall(wanted))
    scored = sorted(((len(words & set(_WORDS.findall(ln))), ln) for ln in stripped), reverse=True)
    candidates = [ln for score, ln in scored[:20] if score] or stripped[:2000]
    close = difflib.get_close_matches(wanted, candidates, n=1, cutoff=0.6) if wanted else []
    if close:
        number = stripped.index(close[0]) + 1
        message += f" The closest line is {number}: `{close[0][:120]}`."
    return message + " View the file again and copy the text exactly."


def insert_after(text: str, line: int, new: str, *, path: str = "the file") -> str:
    """Insert ``new`` after 1-based ``line`` (0: at the top)."""
    lines = text.split("\n")
    count = len(lines) - 1 if text.endswith("\n") or not text else len(lines)
    if line < 0 or line > count:
        raise EditError(f"`insert_line` {line} is outside {path}, which has {count} lines. "
                        f"Use a number from 0 (top of the file) to {count} (end of the file).")
    eol = "\r\n" if "\r\n" in text else "\n"
    block = new.replace("\r\n", "\n")
    if not block.endswith("\n"):
        block += "\n"
    block = block.replace("\n", eol)
    offset = 0
    for _ in range(line):
        newline = text.find("\n", offset)
        offset = len(text) if newline == -1 else newline + 1
    if offset == len(text) and text and not text.endswith("\n"):
        block = eol + block
    return text[:offset] + block + text[offset:]
