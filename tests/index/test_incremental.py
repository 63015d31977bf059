"""Incremental scans: unchanged, edited, deleted, renamed, ignored; the store and git hygiene."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import git
import pytest

from codeassist.errors import UsageError
from codeassist.index import RepoIndex
from tests.index.conftest import make_git_repo, write_files


def _names(index: RepoIndex, path: str) -> set[str]:
    return {s.name for s in index.outline(path)}


def test_second_scan_parses_nothing(poly_repo: Path, open_index: Callable[..., RepoIndex]) -> None:
    index = open_index(poly_repo)
    first = index.update()
    assert first.indexed == 15 and first.unchanged == 0
    assert first.skipped == {"unsupported": 1}  # README.md
    assert first.definitions > 30 and first.references > 20
    second = index.update()
    assert (second.indexed, second.unchanged, second.removed) == (0, 15, 0)
    assert second.definitions == first.definitions


def test_edit_delete_rename_leave_no_stale_rows(
    poly_repo: Path, open_index: Callable[..., RepoIndex]
) -> None:
    index = open_index(poly_repo)
    index.update()
    (poly_repo / "app/util.py").write_text("def kebab(text):\n    return text\n", encoding="utf-8")
    (poly_repo / "svc/main.go").unlink()
    os.rename(poly_repo / "ruby/greeter.rb", poly_repo / "ruby/welcome.rb")
    summary = index.update()
    assert (summary.indexed, summary.removed) == (2, 2)  # util.py and welcome.rb; main.go, greeter.rb gone
    assert _names(index, "app/util.py") == {"kebab"}
    assert index.definitions("slugify") == [] and index.definitions("Clock") == []
    assert index.outline("svc/main.go") == [] and index.definitions("Server") == []
    assert index.outline("ruby/greeter.rb") == []
    assert [s.path for s in index.definitions("Greeter")] == ["ruby/welcome.rb"]
    assert all(r.path != "svc/main.go" for r in index.references("Println"))
    db = sqlite3.connect(poly_repo / ".codeassist" / "index.db")
    try:
        paths = {row[0] for row in db.execute("SELECT path FROM files")}
        orphans = db.execute(
            "SELECT count(*) FROM refs WHERE file_id NOT IN (SELECT id FROM files)"
        ).fetchone()
    finally:
        db.close()
    assert "svc/main.go" not in paths and "ruby/greeter.rb" not in paths
    assert orphans == (0,)


def test_touched_but_identical_file_is_not_reparsed(
    poly_repo: Path, open_index: Callable[..., RepoIndex]
) -> None:
    index = open_index(poly_repo)
    index.update()
    path = poly_repo / "app/models.py"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 5_000_000_000))
    summary = index.update()
    assert (summary.indexed, summary.unchanged) == (0, 15)  # same content hash


def test_gitignore_codeassistignore_and_extra_ignore(
    tmp_path: Path, open_index: Callable[..., RepoIndex]
) -> None:
    root = tmp_path / "r"
    make_git_repo(root, {"src/a.py": "def a(): pass\n", ".gitignore": "build/\n*.gen.py\n"}).close()
    write_files(
        root,
        {
            "build/out.py": "def built(): pass\n",
            "src/x.gen.py": "def gen(): pass\n",
            "src/new.py": "def fresh(): pass\n",  # untracked, not ignored: indexed
            "vendor/lib.py": "def vendored(): pass\n",
            "docs/conf.py": "def conf(): pass\n",
            ".codeassistignore": "# vendored code\nvendor/\n",
        },
    )
    index = open_index(root, extra_ignore=["docs/*.py"])
    index.update()
    indexed = {
        s.name for name in ("a", "fresh", "built", "gen", "vendored", "conf") for s in index.definitions(name)
    }
    assert indexed == {"a", "fresh"}


def test_plain_directory_honours_gitignore(tmp_path: Path, open_index: Callable[..., RepoIndex]) -> None:
    write_files(
        tmp_path,
        {
            "m.py": "def m(): pass\n",
            ".gitignore": "skip/\n",
            "skip/s.py": "def s(): pass\n",
            "sub/.gitignore": "*.py\n!keep.py\n",
            "sub/drop.py": "def drop(): pass\n",
            "sub/keep.py": "def keep(): pass\n",
        },
    )
    index = open_index(tmp_path)
    summary = index.update()
    assert summary.indexed == 2
    assert [s.path for s in index.definitions("m") + index.definitions("keep")] == ["m.py", "sub/keep.py"]
    assert index.definitions("s") == [] and index.definitions("drop") == []
    assert not (tmp_path / ".git").exists()


def test_index_dir_ignored_through_info_exclude(
    poly_repo: Path, open_index: Callable[..., RepoIndex]
) -> None:
    gitignore_before = (poly_repo / ".gitignore").exists()
    open_index(poly_repo).update()
    repo = git.Repo(poly_repo)
    try:
        assert repo.untracked_files == []
        assert not repo.is_dirty()
    finally:
        repo.close()
    assert "/.codeassist/" in (poly_repo / ".git/info/exclude").read_text(encoding="utf-8")
    assert (poly_repo / ".gitignore").exists() == gitignore_before
    RepoIndex.open(poly_repo).close()  # opening again does not add the line twice
    assert (poly_repo / ".git/info/exclude").read_text(encoding="utf-8").count("/.codeassist/") == 1


def test_corrupt_database_is_rebuilt(poly_repo: Path, open_index: Callable[..., RepoIndex]) -> None:
    open_index(poly_repo).update()
    db = poly_repo / ".codeassist" / "index.db"
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    db.write_bytes(b"this is not a database" * 100)
    index = open_index(poly_repo)
    summary = index.update()
    assert summary.indexed == 15
    assert [s.path for s in index.definitions("User")] == ["app/models.py"]


def test_other_schema_version_is_rebuilt(poly_repo: Path, open_index: Callable[..., RepoIndex]) -> None:
    open_index(poly_repo).update()
    db = sqlite3.connect(poly_repo / ".codeassist" / "index.db")
    with db:
        db.execute("UPDATE meta SET value = '0' WHERE key = 'schema'")
    db.close()
    index = open_index(poly_repo)
    assert index.update().indexed == 15


def test_update_file_uses_the_editor_text(poly_repo: Path, open_index: Callable[..., RepoIndex]) -> None:
    index = open_index(poly_repo)
    index.update()
    index.update_file(poly_repo / "app/util.py", "class Timer:\n    def tick(self):\n        slugify('a')\n")
    assert _names(index, "app/util.py") == {"Timer", "tick"}
    assert index.definitions("slugify") == []
    assert "app/util.py" in {r.path for r in index.references("slugify")}
    # The file on disk did not change; the next scan puts the disk's content back.
    summary = index.update()
    assert summary.indexed == 1
    assert _names(index, "app/util.py") == {"slugify", "Clock", "now"}


def test_many_files_parse_in_worker_processes(tmp_path: Path, open_index: Callable[..., RepoIndex]) -> None:
    # ~2.4 MB of source: enough for the scan to start worker processes.
    filler = 'BLOB = """' + "lorem ipsum " * 1700 + '"""\n'
    files = {f"pkg/m{i}.py": f"def f{i}(x):\n    return f{i - 1}(x)\n\n{filler}" for i in range(1, 121)}
    make_git_repo(tmp_path / "big", files).close()
    index = open_index(tmp_path / "big", workers=2)
    seen: list[tuple[int, int]] = []
    summary = index.update(lambda done, total: seen.append((done, total)))
    assert summary.indexed == 120 and summary.definitions == 120 * 2
    assert seen[0] == (0, 120) and seen[-1] == (120, 120)
    assert len(seen) < 120  # progress arrives per batch of files from the workers
    assert [r.path for r in index.references("f7")] == ["pkg/m8.py"]


def test_queries_while_another_thread_edits(poly_repo: Path, open_index: Callable[..., RepoIndex]) -> None:
    index = open_index(poly_repo)
    index.update()
    errors: list[BaseException] = []

    def edit() -> None:
        try:
            for n in range(40):
                index.update_file("app/util.py", f"def slug{n}(text):\n    return text\n")
        except BaseException as exc:  # reported to the main thread below
            errors.append(exc)

    thread = threading.Thread(target=edit)
    thread.start()
    for _ in range(40):
        assert [s.name for s in index.definitions("User")] == ["User"]
        index.repo_map(200, focus_idents=["User"])
    thread.join()
    assert errors == []
    assert _names(index, "app/util.py") == {"slug39"}


def test_symbols_prefix_and_exact_first(poly_repo: Path, open_index: Callable[..., RepoIndex]) -> None:
    index = open_index(poly_repo)
    index.update()
    assert [s.name for s in index.symbols("format")] == ["format_greeting"]
    names = [s.name for s in index.symbols("s")]
    assert set(names) == {"save", "slugify", "start", "Server", "Start", "Shape"}
    assert [s.name for s in index.symbols("Sta")] == ["Start", "start"]  # same length: by name
    assert index.symbols("User")[0].name == "User"
    assert index.symbols("user")[0].name == "User"  # case-insensitive
    assert index.symbols("%") == [] and index.symbols("") == []
    assert [s.name for s in index.symbols("_")] == ["__init__"]  # "_" is literal, not a wildcard
    assert len(index.symbols("s", limit=2)) == 2


def test_paths_outside_the_repository(
    poly_repo: Path, tmp_path: Path, open_index: Callable[..., RepoIndex]
) -> None:
    index = open_index(poly_repo)
    index.update()
    outside = tmp_path / "elsewhere.py"
    outside.write_text("def elsewhere(): pass\n", encoding="utf-8")
    index.update_file(outside, outside.read_text(encoding="utf-8"))  # an editor buffer outside: ignored
    index.update_file("../elsewhere.py", "def elsewhere(): pass\n")
    assert index.definitions("elsewhere") == []
    assert index.outline(outside) == [] and index.imports("../x.py") == []
    assert [s.name for s in index.outline(poly_repo / "app" / "util.py")] == ["slugify", "Clock", "now"]
    with pytest.raises(UsageError, match="outside the repository"):
        index.rel(outside)
