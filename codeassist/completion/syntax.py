"""Whether a suggestion breaks the syntax of the code around it, read by tree-sitter.

A small model's line can be no code at all: ``print res = ''`` or ``odd return res`` where the
document wants ``res = ''``, often when it went on from its second most likely token. The
document is parsed as the user has it and with the suggestion in place; a suggestion whose lines
hold a syntax error the document did not have is rejected like a line that does not fit
(:mod:`codeassist.completion.fit`): the engine asks for the model's next choice there, or cuts
the suggestion before that line. Only in a document that parses cleanly as the user has it: in
one with errors (the code being typed, half-written blocks) tree-sitter's recovery moves with every
character, and its errors say nothing about the suggestion.
"""

from __future__ import annotations

import logging
from pathlib import PurePath

from codeassist.completion.postprocess import replaced_suffix
from codeassist.completion.windows import CursorWindow
from codeassist.errors import CodeassistError
from codeassist.index import language_for_path
from codeassist.index.treesitter import syntax_errors

log = logging.getLogger(__name__)

# the editors' language ids where the file name does not say (an untitled buffer)
_BY_LANGUAGE_ID = {"python": "python", "javascript": "javascript", "javascriptreact": "javascript",
                   "typescript": "typescript", "typescriptreact": "tsx", "go": "go", "rust": "rust",
                   "java": "java", "c": "c", "cpp": "cpp", "ruby": "ruby", "csharp": "csharp", "php": "php",
                   "shellscript": "bash"}


def grammar_for(path: str, language_id: str) -> str | None:
    """The tree-sitter grammar for a document: by its file name, else by the editor's language
    id; None when there is none."""
    return language_for_path(PurePath(path)) or _BY_LANGUAGE_ID.get(language_id.lower())


class SyntaxCheck:
    """New syntax errors a suggestion brings into the document (the whole of it: a window cut
    inside a docstring would parse as something else; tree-sitter reads 2,000 lines in ~4 ms)."""

    def __init__(self, grammar: str | None, lines: list[str], window: CursorWindow) -> None:
        self.grammar = grammar
        self._lines = lines
        self._window = window
        self._clean: bool | None = None  # whether the document parses as the user has it

    def new_error(self, text: str) -> int | None:
        """The offset in ``text`` of the first visible character of its first line that holds a
        syntax error the document did not have (None: no new error, or no grammar)."""
        if self.grammar is None or not text.strip():
            return None
        w, lines = self._window, self._lines
        rest = w.line_suffix[replaced_suffix(text, w.line_suffix):]  # as accepting it leaves the line
        above, below = "\n".join(lines[: w.line]), "\n".join(lines[w.line + 1:])
        head = above + "\n" if w.line else ""
        try:
            if self._clean is None:
                self._clean = not syntax_errors(self.grammar, "\n".join(lines))
            if not self._clean:
                return None  # a document with errors already (code being typed) says little
            errors = syntax_errors(self.grammar, head + w.line_prefix + text + rest + "\n" + below)
        except CodeassistError as exc:  # a grammar that is not installed: no check
            log.debug("no syntax check: %s", exc)
            self.grammar = None
            return None
        inserted = text.split("\n")
        inside = [line - w.line for line in errors if w.line <= line < w.line + len(inserted)]
        if not inside:
            return None
        index = min(inside)
        start = sum(len(line) + 1 for line in inserted[:index])
        return start + len(inserted[index]) - len(inserted[index].lstrip())
