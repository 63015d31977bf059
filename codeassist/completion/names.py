"""The names in code near the cursor, as the context looks them up.

Comments and documentation are left out: a name in prose (a Javadoc sentence, a Python
docstring) says little about the code being written, and its definitions elsewhere are noise.
Each name says whether it occurred only as a member (``x.name``): without types, where such a
name is defined is known only within this file and the modules it imports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from codeassist.completion.prompt import comment_prefix

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_IDENT_BEFORE = re.compile(r"(?<![A-Za-z0-9_])[A-Za-z_][A-Za-z0-9_]*$")
_DOC_QUOTES = ('"""', "'''")


def code_only(lines: Iterable[str], language: str) -> list[str]:
    """``lines`` with comments (and Python docstrings) blanked out, line for line. Lexical and
    forgiving: the lines may start inside a block comment (a line starting with ``*`` is one)."""
    mark = comment_prefix(language)
    c_like = mark == "//"
    python = language.lower() == "python"
    out: list[str] = []
    block = False
    doc: str | None = None
    for line in lines:
        text = line
        if python:
            text, doc = _python_docstring(text, doc)
        elif c_like:
            text, block = _c_block(text, block)
        cut = text.find(mark)
        if cut >= 0:
            text = text[:cut]
        out.append(text)
    return out


def _python_docstring(text: str, doc: str | None) -> tuple[str, str | None]:
    if doc is not None:  # inside a docstring: until its closing quotes
        if doc not in text:
            return "", doc
        return text.split(doc, 1)[1], None
    stripped = text.lstrip()
    for quotes in _DOC_QUOTES:
        if stripped.startswith(quotes):
            rest = stripped[3:]
            if quotes in rest:  # a one-line docstring
                return rest.split(quotes, 1)[1], None
            return "", quotes
    return text, None


def _c_block(text: str, block: bool) -> tuple[str, bool]:
    if block:
        if "*/" not in text:
            return "", True
        text = text.split("*/", 1)[1]
    elif text.lstrip().startswith("*"):  # a block comment's continuation line (Javadoc, JSDoc)
        return ("", False) if "*/" in text else ("", True)
    kept = ""
    while "/*" in text:
        before, _, rest = text.partition("/*")
        kept += before + " "
        if "*/" not in rest:
            return kept, True
        text = rest.split("*/", 1)[1]
    return kept + text, False


def names_in(text: str) -> list[tuple[str, str | None, bool]]:
    """Each identifier of ``text``: the name, its receiver when it is a member (``Collections`` in
    ``Collections.sort``; None after a call or an index, ``f().name``) and whether it is one."""
    found: list[tuple[str, str | None, bool]] = []
    for match in _IDENT.finditer(text):
        i = match.start() - 1
        while i >= 0 and text[i] in " \t":
            i -= 1
        if i < 0 or text[i] != ".":
            found.append((match.group(), None, False))
            continue
        receiver = _IDENT_BEFORE.search(text[:i].rstrip())
        found.append((match.group(), receiver.group() if receiver else None, True))
    return found
