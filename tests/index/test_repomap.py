"""The repo map: ranking, focus, the token budget, and the persisted graph."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from codeassist.index import RepoIndex, estimate_tokens
from tests.index.conftest import make_git_repo

# A hub everybody calls, a few leaves, and an island nobody references.
HUB_REPO = {
    "core/hub.py": "class Registry:\n    def register(self, item):\n        return item\n\n"
    "def lookup_service(name):\n    return Registry().register(name)\n",
    **{
        f"feature/f{i}.py": f"from core.hub import lookup_service\n\ndef feature_{i}():\n"
        f"    return lookup_service('f{i}')\n"
        for i in range(6)
    },
    "island/alone.py": "def lonely_function(a, b):\n    total = a + b\n    return total\n",
    "island/friend.py": "from island.alone import lonely_function\n\n"
    "def befriend():\n    return lonely_function(1, 2)\n",
}


def _indexed(tmp_path: Path, open_index: Callable[..., RepoIndex]) -> RepoIndex:
    make_git_repo(tmp_path / "hub", dict(HUB_REPO)).close()
    index = open_index(tmp_path / "hub")
    index.update()
    return index


def test_most_referenced_definitions_come_first(tmp_path: Path, open_index: Callable[..., RepoIndex]) -> None:
    index = _indexed(tmp_path, open_index)
    result = index.repo_map(1000)
    assert result.files[0] == "core/hub.py"
    assert result.text.splitlines()[:4] == [  # grouped by file, in source order, nested by scope
        "core/hub.py:",
        "  class Registry:",
        "    def register(self, item):",
        "  def lookup_service(name):",
    ]
    assert result.files[-6:] == [f"feature/f{i}.py" for i in range(6)]  # nobody calls the features
    assert "return" not in result.text and "total = a + b" not in result.text  # signatures only
    assert result.tokens == estimate_tokens(result.text) <= 1000


def test_focus_moves_the_map(tmp_path: Path, open_index: Callable[..., RepoIndex]) -> None:
    index = _indexed(tmp_path, open_index)
    plain = index.repo_map(1000)
    by_ident = index.repo_map(1000, focus_idents=["lonely_function"])
    by_file = index.repo_map(1000, focus_files=["island/friend.py"])
    assert plain.files.index("island/alone.py") > 0
    assert by_ident.files[0] == "island/alone.py"
    assert by_file.files[0] == "island/alone.py"  # what the focused file uses
    assert by_file.text != plain.text
    # Unknown focus names and files are ignored, not errors.
    assert index.repo_map(1000, focus_files=["nope.py"], focus_idents=["Nope"]).text == plain.text


def test_budget_and_custom_token_counter(tmp_path: Path, open_index: Callable[..., RepoIndex]) -> None:
    index = _indexed(tmp_path, open_index)

    def words(text: str) -> int:
        return len(text.split())

    full = index.repo_map(10_000, count_tokens=words)
    small = index.repo_map(12, count_tokens=words)
    assert full.tokens == words(full.text) and small.tokens == words(small.text)
    assert 0 < small.tokens <= 12 < full.tokens
    assert full.text.startswith(small.text.splitlines()[0])
    assert index.repo_map(1).text == "" and index.repo_map(1).files == []


def test_empty_repository(tmp_path: Path, open_index: Callable[..., RepoIndex]) -> None:
    index = open_index(tmp_path)
    index.update()
    result = index.repo_map(500, focus_idents=["x"])
    assert (result.text, result.files, result.tokens) == ("", [], 0)


def test_warm_map_comes_from_the_persisted_graph(
    tmp_path: Path, open_index: Callable[..., RepoIndex]
) -> None:
    index = _indexed(tmp_path, open_index)
    expected = index.repo_map(1000, focus_idents=["lonely_function"])
    index.close()
    db_path = tmp_path / "hub" / ".codeassist" / "index.db"
    db = sqlite3.connect(db_path)
    with db:  # drop the rows a rebuild would read; the generation stays the same
        db.execute("DELETE FROM refs")
    db.close()
    reopened = open_index(tmp_path / "hub")
    assert reopened.repo_map(1000, focus_idents=["lonely_function"]).text == expected.text


def test_update_file_patches_the_graph(tmp_path: Path, open_index: Callable[..., RepoIndex]) -> None:
    index = _indexed(tmp_path, open_index)
    index.repo_map(1000)
    calls = "".join(f"    brand_new_helper({i})\n" for i in range(5))
    index.update_file("island/alone.py", "def brand_new_helper(x):\n    return x\n")
    index.update_file("feature/f0.py", f"def feature_0():\n{calls}")
    result = index.repo_map(1000)
    assert "def brand_new_helper(x):" in result.text
    assert "lonely_function" not in result.text
    index.close()  # persists the patched graph ...
    db = sqlite3.connect(tmp_path / "hub" / ".codeassist" / "index.db")
    try:
        saved = db.execute("SELECT generation FROM graph").fetchone()[0]
        current = int(db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
    finally:
        db.close()
    assert saved == current  # ... so the next process loads it instead of rebuilding
    assert open_index(tmp_path / "hub").repo_map(1000).text == result.text


def test_scan_of_a_few_changes_patches_the_persisted_graph(
    tmp_path: Path, open_index: Callable[..., RepoIndex]
) -> None:
    index = _indexed(tmp_path, open_index)
    before = index.repo_map(1000)
    index.close()
    db = sqlite3.connect(tmp_path / "hub" / ".codeassist" / "index.db")
    with db:  # a full rebuild would now miss every reference; a patch keeps the persisted edges
        db.execute("DELETE FROM refs")
    db.close()
    (tmp_path / "hub" / "island" / "friend.py").write_text(
        "def befriend():\n    return 3\n", encoding="utf-8"
    )
    reopened = open_index(tmp_path / "hub")
    assert reopened.update().indexed == 1
    after = reopened.repo_map(1000)
    assert after.files[0] == "core/hub.py" == before.files[0]  # still ranked by the persisted edges
    assert after.files.index("island/alone.py") > before.files.index("island/alone.py")  # lost its caller
