from __future__ import annotations

from pathlib import Path

from codeassist.chat.line_completion import complete_line


def test_slash_commands_complete(tmp_path: Path) -> None:
    assert complete_line("/sn", tmp_path) == ["/snippet"]
    assert set(complete_line("/c", tmp_path)) == {"/claude", "/copy", "/cost", "/clear"}
    assert complete_line("hello", tmp_path) == []
    assert complete_line("/think o", tmp_path) == ["/think on", "/think off"]


def test_paths_complete_after_path_commands(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("x = 1\n")
    (tmp_path / "setup.cfg").write_text("")
    (tmp_path / ".git").mkdir()
    assert complete_line("/add s", tmp_path) == ["/add setup.cfg", "/add src/"]
    assert complete_line("/add src/a", tmp_path) == ["/add src/app.py"]
    assert complete_line("/apply src/", tmp_path) == ["/apply src/app.py"]
    assert complete_line("/add .g", tmp_path) == []  # never into .git
    assert complete_line("/symbols s", tmp_path) == []  # not a path command
