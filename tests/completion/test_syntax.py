"""Suggestions that break the document's syntax, read by the real tree-sitter grammars."""

from __future__ import annotations

import pytest

from codeassist.completion.syntax import SyntaxCheck, grammar_for
from codeassist.completion.tokens import EstimatingCounter, LineCounter
from codeassist.completion.windows import cursor_window, split_lines

PYTHON = '''def odd_counts(lst):
    """How many odd digits each string holds."""

    for s in lst:
        res.append(sum(int(d) % 2 for d in s))
    return res
'''


def check(text: str, line: int, col: int, grammar: str | None = "python") -> SyntaxCheck:
    lines = split_lines(text)
    window = cursor_window(lines, line, col, LineCounter(EstimatingCounter()), prefix_tokens=20,
                           suffix_tokens=20)  # a window cut inside the docstring: the document is read
    return SyntaxCheck(grammar, lines, window)


@pytest.mark.parametrize(("suggestion", "offset"), [
    ("    odd return res", 4),  # the model's next word glued to its first one
    ("    res = [\n    x = 1", 4),  # an unclosed bracket
    ("    res = []\n    x = = 1", 17),  # the second line is the broken one
])
def test_a_suggestion_that_breaks_a_clean_document(suggestion: str, offset: int) -> None:
    assert check(PYTHON, 2, 0).new_error(suggestion) == offset


@pytest.mark.parametrize("suggestion", ["    res = []", "    res = []  # the counts", ""])
def test_code_that_parses_passes(suggestion: str) -> None:
    assert check(PYTHON, 2, 0).new_error(suggestion) is None


def test_a_document_with_errors_already_is_not_judged() -> None:
    # the user is typing the line: the document does not parse, whatever is suggested
    typing = PYTHON.replace("    for s in lst:", "    for s in (")
    assert check(typing, 3, len("    for s in (")).new_error("lst:") is None
    assert check(typing, 2, 0).new_error("    odd return res") is None


def test_auto_closed_brackets_the_suggestion_replaces_are_not_doubled() -> None:
    clean = "def perimeter(circle):\n    return 2 * circle.r\n\nx = f()\n"
    # the editor closed the bracket: a suggestion that closes it too replaces it (f(1, 2), not
    # f(1, 2))), one that does not goes in front of it
    assert check(clean, 3, len("x = f(")).new_error("1, 2)") is None
    assert check(clean, 3, len("x = f(")).new_error("1, 2") is None
    assert check(clean, 3, len("x = f(")).new_error("1, 2))") == 0


def test_other_languages_and_none() -> None:
    go = "package main\n\nfunc main() {\n\t\n\tprintln(1)\n}\n"
    assert check(go, 3, 1, "go").new_error("x := := 2") == 0
    assert check(go, 3, 1, "go").new_error("x := 2") is None
    assert check(go, 3, 1, None).new_error("x := := 2") is None  # no grammar: no check


def test_the_grammar_of_a_document() -> None:
    assert grammar_for("/src/app/main.py", "python") == "python"
    assert grammar_for("/src/App.tsx", "typescriptreact") == "tsx"
    assert grammar_for("untitled:Untitled-1", "go") == "go"  # by the editor's language id
    assert grammar_for("/notes/todo.md", "markdown") is None
