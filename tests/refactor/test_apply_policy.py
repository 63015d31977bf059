"""The apply policy of ``str_replace`` and the text editor tool's path rules (no model involved)."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeassist.errors import EditError
from codeassist.refactor.editor_tool import EditorTool
from codeassist.refactor.matching import insert_after, replace_unique

SRC = "class A:\n    def f(self):\n        x = 1\n        return x\n\n    def g(self):\n        return 2\n"


def test_exact_unique_match() -> None:
    applied = replace_unique(SRC, "        x = 1\n", "        x = 2\n")
    assert (applied.how, applied.line) == ("exact", 3)
    assert applied.text == SRC.replace("x = 1", "x = 2")


def test_duplicate_exact_match_names_every_line() -> None:
    with pytest.raises(EditError, match=r"matches 2 places in a.py \(lines 3, 10\)"):
        replace_unique(SRC + SRC, "        x = 1\n", "y", path="a.py")


@pytest.mark.parametrize(("old", "new", "expected_body"), [
    # model dropped one indentation level
    ("def f(self):\n    x = 1\n", "def f(self):\n    x = 10\n", "    def f(self):\n        x = 10\n"),
    # trailing blanks after the lines
    ("    def g(self):  \n        return 2 \n", "    def g(self):\n        return 3\n",
     "    def g(self):\n        return 3\n"),
    # one extra level of indentation in the model's text
    ("        def g(self):\n            return 2\n", "        def g(self):\n            return 4\n",
     "    def g(self):\n        return 4\n"),
])
def test_whitespace_drift_is_tolerated_and_reindented(old: str, new: str, expected_body: str) -> None:
    applied = replace_unique(SRC, old, new)
    assert applied.how == "whitespace"
    assert expected_body in applied.text
    assert applied.text.count("\n") == SRC.count("\n")


def test_tabs_file_with_spaces_from_the_model() -> None:
    text = "def f():\n\tif x:\n\t\treturn 1\n"
    applied = replace_unique(text, "    if x:\n        return 1\n", "    if x:\n        return 2\n")
    assert applied.text == "def f():\n\tif x:\n\t\treturn 2\n"


def test_crlf_file_keeps_its_line_endings() -> None:
    text = "a = 1\r\nb = 2\r\n"
    assert replace_unique(text, "b = 2\n", "b = 3\n").text == "a = 1\r\nb = 3\r\n"
    assert replace_unique(text, "  b = 2  \n", "b = 4\n").text == "a = 1\r\nb = 4\r\n"


def test_tolerant_match_must_be_unique_too() -> None:
    text = "if a:\n    go()\nif b:\n        go()\n"
    with pytest.raises(EditError, match=r"2 places when whitespace is ignored \(lines 2, 4\)"):
        replace_unique(text, "go()  \n", "stop()\n")


def test_inconsistent_indentation_is_not_a_match() -> None:
    with pytest.raises(EditError, match="does not appear"):
        replace_unique(SRC, "def f(self):\nx = 1\n", "nope\n")  # the two lines shifted differently


def test_elided_old_text_keeps_the_elided_code() -> None:
    old = "class A:\n    ...\n    def g(self):\n        return 2\n"
    new = "class A:\n    ...\n    def g(self):\n        return 3\n"
    applied = replace_unique(SRC, old, new)
    assert applied.how == "elision"
    assert applied.text == SRC.replace("return 2", "return 3")


def test_real_ellipsis_lines_still_match_exactly() -> None:
    text = "class P(Protocol):\n    def f(self) -> int:\n        ...\n"
    old, new = "    def f(self) -> int:\n        ...\n", "    def f(self) -> str:\n        ...\n"
    applied = replace_unique(text, old, new)
    assert applied.how == "exact" and "-> str" in applied.text


def test_unpaired_elision_is_refused() -> None:
    with pytest.raises(EditError, match=r"`\.\.\.` line"):
        replace_unique(SRC, "class A:\n    # ...\n    def g(self):\n", "class A:\n    def g(self):\n")


def test_stale_text_is_refused_with_the_closest_line() -> None:
    with pytest.raises(EditError, match=r"closest line is 3: `x = 1`"):
        replace_unique(SRC, "        x = 7\n", "        x = 8\n")


def test_empty_old_text_is_refused() -> None:
    with pytest.raises(EditError, match="`old_str` is empty"):
        replace_unique(SRC, "", "x")


@pytest.mark.parametrize(("line", "expected"), [
    (0, "new\na\nb\n"), (1, "a\nnew\nb\n"), (2, "a\nb\nnew\n"),
])
def test_insert_after_line(line: int, expected: str) -> None:
    assert insert_after("a\nb\n", line, "new") == expected


def test_insert_outside_the_file_is_refused() -> None:
    with pytest.raises(EditError, match=r"`insert_line` 5 is outside f.py, which has 2 lines"):
        insert_after("a\nb\n", 5, "x", path="f.py")
    assert insert_after("a\nb", 2, "c") == "a\nb\nc\n"


def test_editor_tool_commands_and_touched_files(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text("x = 1\n")
    (tmp_path / ".git").mkdir()
    tool = EditorTool(tmp_path, allowed=lambda p: not p.endswith(".env"))
    view = tool.execute("str_replace_based_edit_tool", {"command": "view", "path": "/repo/pkg/m.py"})
    assert view.text == "     1\tx = 1" and not view.is_error
    listing = tool.execute("str_replace_based_edit_tool", {"command": "view", "path": "/repo"})
    assert "pkg/" in listing.text and "pkg/m.py" in listing.text and ".git" not in listing.text
    created = tool.execute("str_replace_based_edit_tool",
                           {"command": "create", "path": "pkg/new.py", "file_text": "y = 2\n"})
    again = tool.execute("str_replace_based_edit_tool",
                         {"command": "create", "path": "pkg/new.py", "file_text": "z\n"})
    inserted = tool.execute("str_replace_based_edit_tool", {"command": "insert", "path": "pkg/m.py",
                                                            "insert_line": 1, "insert_text": "z = 3"})
    secret = tool.execute("str_replace_based_edit_tool",
                          {"command": "create", "path": "conf/.env", "file_text": "A=1\n"})
    deleted = tool.execute("delete_file", {"path": "pkg/new.py"})
    bad = tool.execute("str_replace_based_edit_tool", {"command": "undo_edit", "path": "pkg/m.py"})
    assert not created.is_error and again.is_error and "already exists" in again.text
    assert not inserted.is_error and (tmp_path / "pkg" / "m.py").read_text() == "x = 1\nz = 3\n"
    assert secret.is_error and "private file" in secret.text and not (tmp_path / "conf").exists()
    assert not deleted.is_error and not (tmp_path / "pkg" / "new.py").exists()
    assert bad.is_error and "Unknown command 'undo_edit'" in bad.text
    assert tool.touched == {"pkg/m.py": "modified"}  # created then deleted: nothing to commit
