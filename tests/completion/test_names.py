"""Names near the cursor as the context looks them up: comments left out, members marked."""

from __future__ import annotations

import pytest

from codeassist.completion.names import code_only, names_in


@pytest.mark.parametrize(("language", "lines", "expected"), [
    ("java", ["    /**", "     * Returns the ceiling key.", "     */", "    E ceiling(E e) { // see floor",
              "}"],
     ["", "", "", "    E ceiling(E e) { ", "}"]),
    # starting inside a Javadoc: its continuation lines are comments too
    ("java", ["     * @throws NullPointerException", "     */", "    int size;"], ["", "", "    int size;"]),
    ("go", ["x := a /* inline */ + b", "/* open", "still", "closed */ y()"],
     ["x := a   + b", "", "", " y()"]),
    ("python", ['    """Sum of', '    the values."""', "    total = 0  # start", '    """One."""'],
     ["", "", "    total = 0  ", ""]),
    ("javascript", ["  // a note about render()", "  return render(view);"],
     ["  ", "  return render(view);"]),
])
def test_code_only(language: str, lines: list[str], expected: list[str]) -> None:
    assert [line.strip() for line in code_only(lines, language)] == [e.strip() for e in expected]


def test_names_in_mark_members_and_their_receivers() -> None:
    got = names_in("total = Collections.max(items) + f().size + self . width")
    assert got == [("total", None, False), ("Collections", None, False), ("max", "Collections", True),
                   ("items", None, False), ("f", None, False), ("size", None, True),
                   ("self", None, False), ("width", "self", True)]
