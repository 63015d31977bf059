"""Post-processing of raw model output into a suggestion worth showing.

Each rule is a small pure function with its own golden tests (tests/completion/test_postprocess.py).
:func:`postprocess` applies them in order; an empty string means "show nothing".
"""

from __future__ import annotations

from dataclasses import dataclass, replace

_OPENERS = "([{"
_CLOSERS = ")]}"
_BLOCK_OPENERS = (":", "{", "(", "[")
_LINE_OPENERS = (":", "{")
_FLOW_ENDS = frozenset({"return", "raise", "break", "continue", "throw", "goto"})


@dataclass(frozen=True)
class Surroundings:
    """What is around the cursor, as the rules need it."""

    line_prefix: str  # cursor line up to the cursor
    line_suffix: str  # cursor line after the cursor
    next_lines: tuple[str, ...]  # the document lines after the cursor line (a window of them)
    suffix_seen: bool = False  # the model saw the text after the cursor (fill-in-the-middle)
    stop: str = ""  # why generation stopped: "eos" (the model ended), "limit", "word" (a stop string)
    line_above: str = ""  # the last line of code above the cursor line (in the window)
    prose: bool = False  # the document is prose with code blocks (Markdown): fence lines belong to it

    @property
    def opens_lines(self) -> bool:
        """The cursor is at column 0 of a line of code: a suggestion is whole lines put above it."""
        return not self.line_prefix and bool(self.line_suffix.strip())

    @property
    def mid_line(self) -> bool:
        """Code on both sides of the cursor on its line: a suggestion finishes that line only."""
        return bool(self.line_suffix.strip()) and not self.opens_lines

    @property
    def trusted_extent(self) -> bool:
        """The model saw the suffix and ended the answer itself: where it stops is meant."""
        return self.suffix_seen and self.stop == "eos"


def indent_width(line: str) -> int:
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip(" "))


def _word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _visible(text: str) -> int:
    """Characters other than whitespace."""
    return len("".join(text.split()))


def _first_nonblank(lines: tuple[str, ...] | list[str]) -> str | None:
    return next((ln for ln in lines if ln.strip()), None)


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def single_line_when_mid_line(text: str, around: Surroundings) -> str:
    """With code on both sides of the cursor, only the rest of that line is suggested."""
    if around.mid_line:
        return text.split("\n", 1)[0]
    return text


def _is_fence(line: str) -> bool:
    return line.lstrip().startswith(("```", "~~~"))


def cut_at_fence(text: str, around: Surroundings) -> str:
    """A Markdown code fence (```` ``` ````) in a suggestion for a code file is where the model left
    the code for prose (an instruct model explaining its answer): the suggestion ends before it.
    Not in prose documents (Markdown), nor where the document itself has a fence line after the
    cursor (a docstring with a fenced example)."""
    if around.prose or any(_is_fence(line) for line in around.next_lines):
        return text
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if _is_fence(line if i else around.line_prefix + line):
            return "\n".join(lines[:i]).rstrip("\n")
    return text


def leading_fence(text: str, around: Surroundings) -> int | None:
    """The offset of the answer's first visible character when its first line with content is a
    fence that :func:`cut_at_fence` cuts (the whole answer is lost: the engine asks for the
    model's second choice there); None otherwise."""
    if not _is_fence(text) or cut_at_fence(text, around) == text:
        return None
    return len(text) - len(text.lstrip())


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
    """Cut a multi-line suggestion at the line where the document's following lines begin again.

    When the suggestion opens lines above the cursor's line of code, that line is the first of
    the following ones, and the suggestion's first line is compared too. A short line (``}``)
    counts when the next one matches too, or when it is the suggestion's last line and the same
    as the following one, indentation included: the model closed a block that is already closed
    (``}`` before the interface's own ``}``; a ``    }`` closing an inner block stays)."""
    lines = text.split("\n")
    below = around.line_suffix if around.opens_lines else _first_nonblank(around.next_lines)
    if (len(lines) > 1 and below is not None and lines[-1].strip()
            and lines[-1].rstrip() == below.rstrip()):
        return "\n".join(lines[:-1]).rstrip("\n")
    following = [ln.strip() for ln in around.next_lines if ln.strip()]
    if around.opens_lines:
        following.insert(0, around.line_suffix.strip())
    elif len(lines) == 1:
        return text
    first = 0 if around.opens_lines else 1
    if not following:
        return text
    for i in range(first, len(lines)):
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
    fine (editors insert them in pairs). A model that saw the suffix (FIM) wrote its answer to go
    in front of it, and lines opened above a line of code do not touch it: both are kept."""
    tail = around.line_suffix.strip()
    if around.suffix_seen or around.opens_lines or not tail or not (tail[0].isalnum() or tail[0] in "_$@"):
        return text
    return text if text.rstrip().endswith(around.line_suffix.rstrip()) else ""


def _depth(text: str) -> int:
    return sum(1 for ch in text if ch in _OPENERS) - sum(1 for ch in text if ch in _CLOSERS)


def trim_suffix_overlap(text: str, around: Surroundings) -> str:
    """Drop the end of a one-line suggestion that retypes the text after the cursor.

    The whole rest of the line retyped is dropped; an overlap made only of closing brackets is
    dropped when keeping it would close more brackets than the line opens.
    """
    if "\n" in text or around.opens_lines:
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


def strip_trailing_whitespace(text: str, around: Surroundings | None = None) -> str:
    """No trailing spaces on any line, no trailing blank lines; but mid-line a one-line
    suggestion keeps the spaces that separate it from the code after the cursor (``return `` before
    ``x``)."""
    if (around is not None and around.mid_line and "\n" not in text and text.strip()
            and not around.line_suffix[:1].isspace()):
        return text
    return "\n".join(line.rstrip() for line in text.split("\n")).rstrip("\n")


def drop_if_repeats_next_line(text: str, around: Surroundings) -> str:
    """Nothing when the first new line of the suggestion is the line that already follows."""
    following = around.line_suffix if around.opens_lines else _first_nonblank(around.next_lines)
    if following is None:
        return text
    lines = text.split("\n")
    if around.opens_lines:
        first = lines[0]
    elif lines[0].strip():
        first = around.line_prefix + lines[0] + (around.line_suffix if len(lines) == 1 else "")
    else:
        first = _first_nonblank(lines[1:]) or ""
    if first.strip() and first.strip() == following.strip():
        return ""
    return text


def drop_cut_off_line(text: str, around: Surroundings) -> str:
    """A multi-line suggestion that a limit (tokens, time) cut off ends at its last whole line:
    the line being written when generation stopped is unfinished."""
    if around.stop != "limit" or "\n" not in text.rstrip("\n") or text.endswith("\n"):
        return text
    return text.rsplit("\n", 1)[0]


def end_with_line_break(text: str, around: Surroundings) -> str:
    """Lines opened above the cursor's line of code end with a line break, so that line stays
    whole below them."""
    return text + "\n" if text and around.opens_lines else text


def enforce_min_length(text: str, min_chars: int) -> str:
    """Nothing when the suggestion has fewer than ``min_chars`` visible characters."""
    return text if _visible(text) >= min_chars else ""


_AUTO_CLOSED = _CLOSERS + "\"'`;:,"
_QUOTES = "\"'`"


def _closing_chars(text: str) -> list[str]:
    """The characters of ``text`` that close what was opened before it, in order: closing
    brackets without their opening one in ``text``, the last of a quote that ``text`` has an odd
    number of, and ``;:,`` outside ``text``'s own brackets. ``range(n + 1)`` closes nothing."""
    odd = {q: text.rfind(q) for q in _QUOTES if text.count(q) % 2 == 1}
    closing: list[str] = []
    stack: list[str] = []
    for i, ch in enumerate(text):
        if ch in _OPENERS:
            stack.append(ch)
        elif ch in _CLOSERS:
            if not stack:
                closing.append(ch)
            elif _OPENERS.index(stack[-1]) == _CLOSERS.index(ch):
                stack.pop()
        elif ch in _QUOTES:
            if odd.get(ch) == i:
                closing.append(ch)
        elif ch in ";:," and not stack:
            closing.append(ch)
    return closing


def replaced_suffix(text: str, line_suffix: str) -> int:
    """How many characters after the cursor accepting ``text`` replaces (0: it is inserted).

    Editors insert closing brackets and quotes in pairs, so the rest of the line is often ``)`` or
    ``"]`` that a one-line suggestion already contains (``: Circle) -> float:`` before ``)``).
    When the rest of the line is only such characters (spaces aside) and the suggestion closes
    them itself, in order, the suggestion replaces them instead of doubling them. A bracket the
    suggestion opens and closes itself does not count: ``str(i) for i in range(n + 1)`` before
    ``)`` still needs that ``)``.
    """
    tail = line_suffix.rstrip()
    if "\n" in text or not tail.strip() or any(ch not in _AUTO_CLOSED + " " for ch in tail):
        return 0
    remaining = iter(_closing_chars(text))
    if all(ch == " " or ch in remaining for ch in tail):
        return len(line_suffix)
    return 0


def cut_where_line_suffix_resumes(text: str, around: Surroundings) -> str:
    """Mid-line, after a model that saw the suffix: cut the one-line answer where it runs into the
    code after the cursor (``.isupper() else 0)`` before `` else 0 for char in s)`` is
    ``.isupper()``). It counts from 4 matching visible characters with a letter or digit among
    them, or when the answer's whole rest is the start of that code (``N)[2:]`` before ``)[2:]``);
    a match that starts or ends inside a word does not count (``abs(elem - `` before ``elem2)``
    stays)."""
    tail = around.line_suffix.rstrip()
    if not around.suffix_seen or not around.mid_line or "\n" in text or not tail.strip():
        return text
    for i in range(len(text)):
        if i and _word(text[i - 1]) and _word(tail[0]):
            continue
        common = 0
        while common < min(len(text) - i, len(tail)) and text[i + common] == tail[common]:
            common += 1
        matched = tail[:common]
        rest_is_suffix = common == len(text) - i and _visible(matched) >= 2
        whole_words = common == len(tail) or not (_word(tail[common - 1]) and _word(tail[common]))
        if rest_is_suffix or (whole_words and _visible(matched) >= 4 and any(ch.isalnum() for ch in matched)):
            return text[:i]
    return text


def _following_line(around: Surroundings) -> str | None:
    """The first line of code after the hole: the cursor's line when lines open above it,
    otherwise the first non-blank line below the cursor (None: the cursor line goes on, or
    nothing follows)."""
    if around.opens_lines:
        return around.line_suffix
    if around.line_suffix.strip():
        return None
    return _first_nonblank(around.next_lines)


def stop_at_suffix_scope(text: str, around: Surroundings) -> str:
    """For a model that saw the suffix: where the filled-in lines end, read from indentation.

    The code after the hole (at width ``base``) can follow an answer line only if that line opens
    a block and ``base`` is deeper (the code is its body), or it opens none and ``base`` is not
    deeper: the answer may end after such a line (a *fit*). The answer is past the hole, whatever
    follows, at its first line indented less than both where it started and the code after it
    (test calls at column 0, another function, a Markdown fence); the hole may leave the cursor's
    block when that code does (after ``return False`` in an ``if``). An answer the model ended
    itself ends there. One that does not end (this model writes on to its cap) ends at its last
    fit, or earlier where it visibly writes what the document already has:

    - a block opener whose body the answer writes at the code's own level: that code *is* the body
      (``for i in range(2, n):`` above ``        is_prime = True``);
    - an answer that started deeper than the code and comes back to its level: the document
      already goes on there (``i += 1`` in a loop, then ``return result`` above ``result = ...``);
    - a later line at the code's level that ends the block's flow (``return``, ``raise``,
      ``break``...): the code after the hole would never run.

    Mid-line (one line) nothing changes; with nothing after the hole: :func:`_stop_at_top_level`."""
    following = _following_line(around)
    if following is None:
        return text if around.mid_line else _stop_at_top_level(text, around)
    base = indent_width(following)
    lines = text.split("\n")
    first = _first_content(lines)
    widths = [indent_width(around.line_prefix + ln if i == 0 else ln) for i, ln in enumerate(lines)]
    start = widths[first]
    content = [i for i, ln in enumerate(lines) if i >= first and ln.strip()]
    bound = next((i for i in content[1:] if widths[i] < min(base, start) or widths[i] == 0 < base),
                 len(lines))
    kept = [i for i in content if i < bound]
    fits = [i for i in kept if _fits(lines[i], widths[i], base)]
    if around.trusted_extent or not fits:
        if bound == len(lines):
            return text
        return _lines_up_to(lines, bound, around)
    cut = fits[-1] + 1
    for n, i in enumerate(kept):
        if n > 0 and widths[i] == base and _ends_flow(lines[i]):
            cut = min(cut, i)  # the code after the hole, in the same block, would never run
            break
        if i not in fits or n + 1 == len(kept):
            continue
        after = widths[kept[n + 1]]
        if (_opens_block(lines[i]) and after >= base) or (start > base and after <= base):
            cut = min(cut, i + 1)
            break
    return text if cut == len(lines) else _lines_up_to(lines, cut, around)


def _ends_flow(line: str) -> bool:
    """``return``, ``raise``, ``break``... : nothing after it in its block runs."""
    words = line.split(None, 1)
    return bool(words) and words[0].rstrip(";") in _FLOW_ENDS


def _lines_up_to(lines: list[str], end: int, around: Surroundings) -> str:
    return "\n".join(lines[:end]).rstrip("\n") + ("\n" if around.opens_lines else "")


def _opens_block(line: str) -> bool:
    return line.rstrip().endswith(_LINE_OPENERS)


def _fits(line: str, width: int, base: int) -> bool:
    """Whether code indented ``base`` may follow ``line`` (indented ``width``)."""
    return base > width if _opens_block(line) else base <= width


def _first_content(lines: list[str]) -> int:
    """The index of the answer's first line with code (0 when there is none)."""
    return next((i for i, line in enumerate(lines) if line.strip()), 0)


def _stop_at_top_level(text: str, around: Surroundings) -> str:
    """Nothing follows the hole (the end of the file): inside an indented block the answer ends at
    its first line at column 0 (a new function, test calls, a fence); the hole may still dedent
    within the block (``return begin`` after the loop)."""
    lines = text.split("\n")
    if indent_width(around.line_prefix + lines[0]) == 0:  # top-level code: the cursor's scope rule
        return text if around.trusted_extent else stop_at_scope_end(text, around)
    for i, line in enumerate(lines[1:], start=1):
        if line.strip() and indent_width(line) == 0:
            return "\n".join(lines[:i]).rstrip("\n")
    return text


def drop_dangling_opener(text: str, around: Surroundings) -> str:
    """For a model that saw the suffix: a last line that opens a block (ends with ``:``) is
    dropped when the code after the hole is not indented under it (``else:`` in front of a line at
    the same level is a syntax error)."""
    following = _following_line(around)
    lines = text.rstrip("\n").split("\n")
    if following is None or len(lines) < 2 or not following.strip():
        return text
    last = lines[-1]
    if last.rstrip().endswith(":") and indent_width(following) <= indent_width(last):
        return "\n".join(lines[:-1]).rstrip("\n") + ("\n" if text.endswith("\n") else "")
    return text


def answer_complete(text: str, around: Surroundings) -> bool:
    """Whether an answer still being generated is already past its end: the rules that cut an
    answer short would cut one of its finished lines, and whatever comes after would be cut too.
    Asked while streaming, it stops generation as soon as the model has left the hole."""
    text = normalize_newlines(text)
    finished = text[: text.rfind("\n") + 1]
    if not finished.strip():
        return False
    if around.mid_line:  # one line is all that is shown
        return True
    around = replace(around, stop="")
    kept = cut_where_line_suffix_resumes(cut_at_fence(finished, around), around)
    kept = stop_at_suffix_scope(kept, around) if around.suffix_seen else stop_at_scope_end(kept, around)
    kept = cut_where_suffix_resumes(cut_at_repeated_line(kept), around)
    return _visible(kept) < _visible(finished)


def postprocess(raw: str, around: Surroundings, *, min_chars: int = 2) -> str:
    """The rules in order. The scope and loop cuts guess where an answer should end, the minimum
    length guesses what is noise; they are skipped when the model saw the suffix and ended the
    answer itself (:attr:`trusted_extent`). A model that saw the suffix but did not end its answer
    (it wrote on past the hole) is cut where its answer meets the code after the hole."""
    text = normalize_newlines(raw)
    text = single_line_when_mid_line(text, around)
    text = cut_at_fence(text, around)
    text = cut_where_line_suffix_resumes(text, around)
    text = drop_cut_off_line(text, around)
    if around.suffix_seen:
        text = stop_at_suffix_scope(text, around)
    elif not around.trusted_extent:
        text = stop_at_scope_end(text, around)
    if not around.trusted_extent:
        text = cut_at_repeated_line(text)
    text = cut_where_suffix_resumes(text, around)
    if around.suffix_seen:
        text = drop_dangling_opener(text, around)
    text = drop_if_code_follows_unretyped(text, around)
    text = trim_suffix_overlap(text, around)
    text = strip_trailing_whitespace(text, around)
    text = drop_if_repeats_next_line(text, around)
    if not around.trusted_extent:  # a FIM model that ended by itself after ")" meant ")"
        text = enforce_min_length(text, min_chars)
    return end_with_line_break(text, around)
