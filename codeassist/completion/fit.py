"""Whether a suggestion fits the code that follows it, read from indentation.

Small models often end a block where the document shows it goes on: ``return res`` on a line in
the middle of a function, or a line at column 0 (``# Test cases``) just above the indented code it
belongs to. Accepted, such a suggestion makes the code after it unreachable or breaks its
structure. :func:`misfit` finds the first character of the line that does not fit, so the engine
can ask the model for its next most likely token there (:mod:`codeassist.completion.second_choice`)
or cut the suggestion before that line.

Pure functions, with golden tests (tests/completion/test_fit.py).
"""

from __future__ import annotations

import re

from codeassist.completion.postprocess import Surroundings, indent_width

# statements after which nothing in the same block runs
_FLOW_ENDS = frozenset({"return", "raise", "break", "continue", "throw"})
# lines that may follow a flow end at its own level: the block's close, or the next clause
_CLAUSE = re.compile(r"(else|elif|except|finally|catch|case|default|when|rescue|ensure|end|fi|done|esac)\b")
# what may end a line that deeper code follows (a block, a bracket, a continued expression)
_CONTINUES = (":", "{", "(", "[", ",", "\\", "=", "+", "-", "*", "/", "%", "&", "|", "?", ".", "<", ">")
_CONTINUING_WORDS = frozenset({"then", "do", "and", "or", "not", "in", "begin", "else"})
_COMMENT_STARTS = ("#", "//", "/*", "*", "--", ";")


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


def misfit(text: str, around: Surroundings) -> int | None:
    """The offset in ``text`` of the first visible character of the suggestion's last line of
    code when that line does not fit the code after it (None: it fits, or nothing is known):

    - it ends the block's flow (``return``, ``raise``, ``break``, ``continue``, ``throw``) and
      the next line of code is at its level or deeper, and not a closing bracket or a next
      clause (``else``, ``except``, ``case``...): that code would never run;
    - the next line of code is deeper and starts a statement (not an operator or a dot that
      continues an expression), and the line opens nothing for it (no block opener, no open
      bracket, no operator or comma that goes on): the model wrote a line for another place (a
      comment at column 0 above a function's body).
    """
    if not text.strip():
        return None
    inserted, after = _lines(text, around)
    following = next((ln for ln in after if _is_code(ln)), None)
    index = max((i for i, ln in enumerate(inserted) if ln.strip()), default=None)
    if following is None or index is None:
        return None
    last = inserted[index]
    offset = (sum(len(ln) + 1 for ln in inserted[:index]) + len(last) - len(last.lstrip())
              - len(around.line_prefix))
    if offset < 0:  # the line's code began before the cursor: the suggestion did not start it
        return None
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
