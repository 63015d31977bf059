"""Whether a suggestion fits the code around it, read from indentation.

Small models often end a block where the document shows it goes on: ``return res`` on a line in
the middle of a function, or a line at column 0 (``# Test cases``) just above the indented code it
belongs to. Or they open a block that gets no body: ``if day > 31:`` above code at its own level,
``return ans`` at the function's level right below ``if n % 2 == 0:``. Accepted, such a suggestion
makes the code after it unreachable or breaks its structure. :func:`misfit` finds the first
character of the line that does not fit, so the engine can ask the model for its next choice there
(:mod:`codeassist.completion.refit`) or cut the suggestion before that line; :func:`indentation_for`
says where the line should start when its indentation is what is wrong.

Pure functions, with golden tests (tests/completion/test_fit.py).
"""

from __future__ import annotations

import re
from functools import reduce
from math import gcd

from codeassist.completion.postprocess import Surroundings, indent_width

# statements after which nothing in the same block runs
_FLOW_ENDS = frozenset({"return", "raise", "break", "continue", "throw"})
# lines that may follow a flow end at its own level: the block's close, or the next clause
_CLAUSE = re.compile(r"(else|elif|except|finally|catch|case|default|when|rescue|ensure|end|fi|done|esac)\b")
# what may end a line that deeper code follows (a block, a bracket, a continued expression)
_CONTINUES = (":", "{", "(", "[", ",", "\\", "=", "+", "-", "*", "/", "%", "&", "|", "?", ".", "<", ">")
_CONTINUING_WORDS = frozenset({"then", "do", "and", "or", "not", "in", "begin", "else"})
_COMMENT_STARTS = ("#", "//", "/*", "*", "--", ";")
# lines ending with ":" that need no deeper line below: a switch's labels, C++'s access specifiers
_LABELS = frozenset({"case", "default", "public", "private", "protected"})
_BARE_BLOCKS = frozenset({"else", "try", "finally", "except"})  # a lone word and ":" that opens a block


def _first_word(line: str) -> str:
    match = re.match(r"\s*([A-Za-z_]\w*)", line)
    return match.group(1) if match else ""


def _is_code(line: str) -> bool:
    """A non-blank line that is not a comment (``#``, ``//``, ``/*``, ``--``...)."""
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith(_COMMENT_STARTS)


def _unclosed(line: str) -> bool:
    return sum(line.count(c) for c in "([{") > sum(line.count(c) for c in ")]}")


def _lines(text: str, around: Surroundings) -> tuple[list[str], list[str]]:
    """The lines the document will hold from the cursor line's start to the suggestion's end (the
    cursor line's text around it), and the lines after them."""
    combined = around.line_prefix + text
    if text.endswith("\n"):  # whole lines: the cursor line's rest follows them
        return combined[:-1].split("\n"), [around.line_suffix, *around.next_lines]
    return (combined + around.line_suffix).split("\n"), list(around.next_lines)


def _opens_body(line: str) -> bool:
    """Whether ``line`` opens a block whose body must be indented deeper below it: it ends with
    ``{``, or with ``:`` and is no label (``case 1:``, ``public:``, a lone word such as a Go
    label, a YAML key or a docstring's ``Returns:``; Python's ``else:``, ``try:``... are blocks)."""
    code = line.rstrip()
    if not _is_code(code):
        return False
    if code.endswith("{"):
        return True
    if not code.endswith(":") or _first_word(code) in _LABELS:
        return False
    lone = re.fullmatch(r"\s*([A-Za-z_][\w-]*):", code)
    return lone is None or lone.group(1) in _BARE_BLOCKS


def _body_missing(opener: str, below: str) -> bool:
    """Whether ``below``, the next line of code after a line that opens a body, leaves that body
    out: it is not indented deeper, and it neither closes the block (``}``) nor is a next label
    (``case 2:``) or clause (``else``)."""
    head = below.lstrip()
    if indent_width(below) > indent_width(opener) or head[:1] in ")]}" or head.startswith("- "):
        return False  # deeper, a close, or a YAML list item (it may sit at its key's level)
    return not (_first_word(head) in _LABELS or (opener.rstrip().endswith("{") and _CLAUSE.match(head)))


def misfit(text: str, around: Surroundings) -> int | None:
    """The offset in ``text`` of the first visible character of the suggestion's line that does
    not fit the code around it (None: it fits, or nothing is known). Its first line of code on a
    line of its own, below a line that opens a body (``if n % 2 == 0:``, ``{``), must be that body:
    indented deeper, or the block's close or next label. Its last line of code must fit the code
    after it:

    - it ends the block's flow (``return``, ``raise``, ``break``, ``continue``, ``throw``) and
      the next line of code is at its level or deeper, and not a closing bracket or a next
      clause (``else``, ``except``, ``case``...): that code would never run;
    - the next line of code is deeper and starts a statement (not an operator or a dot that
      continues an expression), and the line opens nothing for it (no block opener, no open
      bracket, no operator or comma that goes on): the model wrote a line for another place (a
      comment at column 0 above a function's body);
    - it opens a body (``:``, ``{``) and the code after it is not that body (:func:`_body_missing`).
    """
    if not text.strip():
        return None
    inserted, after = _lines(text, around)
    first = _first_started(inserted, around)
    if first is not None:
        above = last_code_line(inserted[:first]) or around.line_above
        if _opens_body(above) and _body_missing(above, inserted[first]):
            return _offset(inserted, first, around)
    following = next((ln for ln in after if _is_code(ln)), None)
    index = max((i for i, ln in enumerate(inserted) if ln.strip()), default=None)
    if following is None or index is None:
        return None
    last = inserted[index]
    offset = _offset(inserted, index, around)
    if offset < 0:  # the line's code began before the cursor: the suggestion did not start it
        return None
    if _opens_body(last) and _body_missing(last, following):
        return offset
    width, base = indent_width(last), indent_width(following)
    head = following.lstrip()
    if head[:1] in ")]}" or _CLAUSE.match(head):
        return None
    if _first_word(last) in _FLOW_ENDS and base >= width:
        return offset
    starts_statement = head[:1].isalnum() or head[:1] in "_\"'@$"
    if base > width and starts_statement and not _goes_on(last):
        return offset
    return None


def _offset(inserted: list[str], index: int, around: Surroundings) -> int:
    """The offset in the suggestion of the first visible character of ``inserted[index]``."""
    line = inserted[index]
    before = sum(len(ln) + 1 for ln in inserted[:index])
    return before + len(line) - len(line.lstrip()) - len(around.line_prefix)


def _first_started(inserted: list[str], around: Surroundings) -> int | None:
    """The index of the suggestion's first line of code that it starts (on a line of its own, not
    after code the user wrote on the cursor line); None when there is none."""
    for i, line in enumerate(inserted):
        if i == 0 and around.line_prefix.strip():
            continue  # the cursor line's code goes on: that line is the user's
        if _is_code(line):
            return i
    return None


def indentation_for(text: str, offset: int, around: Surroundings) -> str | None:
    """The indentation the suggestion's line at ``offset`` (a :func:`misfit`) should have when
    what is wrong with it is its indentation, None otherwise: below a line that opens a body, one
    step deeper than that line (the code after the hole's own indentation when it is that body);
    above deeper code that it opens nothing for, that code's indentation. The engine lets the
    model write the line again from there."""
    inserted, after = _lines(text, around)
    start = len(around.line_prefix) + offset  # in the document's lines from the cursor line's start
    index = (around.line_prefix + text)[:start].count("\n")
    if index >= len(inserted):
        return None
    line = inserted[index]
    following = next((ln for ln in after if _is_code(ln)), None)
    above = last_code_line(inserted[:index]) or around.line_above
    if _opens_body(above) and _body_missing(above, line):
        if following is not None and indent_width(following) > indent_width(above):
            return _leading(following)
        return _leading(above) + _step(above, around)
    if (following is not None and indent_width(following) > indent_width(line) and not _goes_on(line)
            and _first_word(line) not in _FLOW_ENDS):
        return _leading(following)
    return None


def _leading(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _step(opener: str, around: Surroundings) -> str:
    """One level of indentation as the document writes it: a tab where the opener is indented with
    tabs, else 2 spaces where the indented lines around are indented by multiples of 2 only, 4
    otherwise."""
    if _leading(opener).startswith("\t"):
        return "\t"
    widths = [indent_width(ln) for ln in (opener, around.line_above, around.line_suffix, *around.next_lines)
              if ln.strip() and not ln.startswith("\t")]
    step = gcd(reduce(gcd, (w for w in widths if w > 0), 0), 4)  # 2 or 4 (8 is two levels of 4)
    return " " * (step if step >= 2 else 4)


def last_code_line(lines: list[str]) -> str:
    """The last line of ``lines`` that holds code (not blank, not a comment); "" when none does."""
    return next((ln for ln in reversed(lines) if _is_code(ln)), "")


def _goes_on(line: str) -> bool:
    """Whether deeper code may follow ``line``: it opens a block or a bracket, or its expression
    goes on (a trailing operator, comma or keyword). A comment opens nothing."""
    code = line.rstrip()
    if not _is_code(code):
        return False
    words = code.split()
    return code.endswith(_CONTINUES) or _unclosed(code) or (bool(words) and words[-1] in _CONTINUING_WORDS)


def cut_before(text: str, offset: int) -> str:
    """``text`` without the line that starts (its code starts) at ``offset``, nor what follows."""
    return text[: text.rfind("\n", 0, offset) + 1]
