"""Bad input never stops a scan: each file is skipped with a reason, the rest is indexed."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from codeassist.index import SKIP_REASONS, RepoIndex
from tests.index.conftest import make_git_repo, write_files

GOOD = {"good.py": "def good():\n    return 1\n"}


def _reasons(index: RepoIndex) -> dict[str, str]:
    return {s.path: s.reason for s in index.update().skipped_files}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    make_git_repo(root, dict(GOOD)).close()
    return root


def test_binary_oversize_invalid_utf8(repo: Path, open_index: Callable[..., RepoIndex]) -> None:
    write_files(
        repo,
        {
            "blob.py": b"\x00\x01\x02def x(): pass\n",
            "big.py": "x = 1\n" * 50,
            "latin.py": "s = 'caf\xe9'\n".encode("latin-1"),
            "ok.py": "def ok(): pass\n",
        },
    )
    index = open_index(repo, max_file_size=200)
    summary = index.update()
    assert {s.path: s.reason for s in summary.skipped_files} == {
        "blob.py": "binary",
        "big.py": "too_large",
        "latin.py": "invalid_utf8",
    }
    assert summary.skipped == {"binary": 1, "too_large": 1, "invalid_utf8": 1}
    assert summary.indexed == 2
    assert [s.name for s in index.definitions("ok")] == ["ok"]
    # Remembered: an unchanged bad file is not read again, and still reported.
    again = index.update()
    assert again.skipped == summary.skipped and again.indexed == 0
    # Fixed files get indexed.
    (repo / "latin.py").write_text("def fixed(): pass\n", encoding="utf-8")
    assert index.update().indexed == 1 and index.definitions("fixed")


def test_symlink_loops_and_dangling_links(repo: Path, open_index: Callable[..., RepoIndex]) -> None:
    os.symlink("loop.py", repo / "loop.py")
    os.symlink("b.py", repo / "a.py")
    os.symlink("a.py", repo / "b.py")
    os.symlink("missing.py", repo / "dangling.py")
    os.symlink("good.py", repo / "alias.py")  # a working link is indexed
    os.symlink(".", repo / "self_dir")  # a directory loop is never walked into
    index = open_index(repo)
    assert _reasons(index) == {
        "loop.py": "symlink_loop",
        "a.py": "symlink_loop",
        "b.py": "symlink_loop",
        "dangling.py": "broken_symlink",
    }
    assert sorted(s.path for s in index.definitions("good")) == ["alias.py", "good.py"]


def test_links_leaving_the_repository_are_never_read(repo: Path, tmp_path: Path,
                                                    open_index: Callable[..., RepoIndex]) -> None:
    outside = tmp_path / "elsewhere" / "shadow.py"
    outside.parent.mkdir()
    outside.write_text("def root_password():\n    return 'Tr0ub4dor&3'\n")
    os.symlink(outside, repo / "shadow.py")
    os.symlink("good.py", repo / "alias.py")  # a link inside the repository is fine
    index = open_index(repo)
    summary = index.update()
    assert {s.path: s.reason for s in summary.skipped_files} == {"shadow.py": "outside_repo"}
    assert index.definitions("root_password") == []
    assert "root_password" not in index.repo_map(2048).text
    assert sorted(s.path for s in index.definitions("good")) == ["alias.py", "good.py"]


def test_plain_directory_with_directory_symlink_loop(
    tmp_path: Path, open_index: Callable[..., RepoIndex]
) -> None:
    write_files(tmp_path, {"d/m.py": "def m(): pass\n"})
    os.symlink("..", tmp_path / "d" / "up")
    index = open_index(tmp_path)
    summary = index.update()
    assert summary.indexed == 1 and summary.skipped_files == []


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux /proc")
def test_unreadable_files(repo: Path, open_index: Callable[..., RepoIndex]) -> None:
    # /proc/self/mem is a regular file that nobody (root included) can read from offset 0; a link to
    # it leaves the repository, so it is skipped before it is ever opened.
    os.symlink("/proc/self/mem", repo / "mem.py")
    expected = {"mem.py": "outside_repo"}
    if os.geteuid() != 0:  # permissions stop only non-root users
        (repo / "secret.py").write_text("def s(): pass\n", encoding="utf-8")
        (repo / "secret.py").chmod(0)
        expected["secret.py"] = "unreadable"
    index = open_index(repo)
    assert _reasons(index) == expected
    assert index.definitions("good")


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs are POSIX")
def test_fifo_is_not_opened(tmp_path: Path, open_index: Callable[..., RepoIndex]) -> None:
    write_files(tmp_path, dict(GOOD))  # a plain directory: git does not list FIFOs at all
    os.mkfifo(tmp_path / "pipe.py")  # opening it for reading would block forever
    index = open_index(tmp_path)
    assert _reasons(index) == {"pipe.py": "not_regular"}
    assert index.definitions("good")


@pytest.mark.parametrize("as_git", [True, False])
def test_a_file_name_that_is_not_utf8(tmp_path: Path, as_git: bool,
                                      open_index: Callable[..., RepoIndex]) -> None:
    root = tmp_path / "repo"
    if as_git:
        make_git_repo(root, dict(GOOD)).close()
    else:
        write_files(root, dict(GOOD))
    with open(os.path.join(os.fsencode(root), b"caf\xe9.py"), "wb") as fh:  # a Latin-1 file name
        fh.write(b"def latin_named(): pass\n")
    index = open_index(root)
    summary = index.update()
    assert [(s.path, s.reason) for s in summary.skipped_files] == [("caf\ufffd.py", "bad_name")]
    assert summary.indexed == 1 and index.definitions("good")
    again = index.update()  # nothing stored for it, nothing stale: the same report each time
    assert again.skipped == {"bad_name": 1} and again.indexed == 0


def test_file_vanishing_mid_scan(repo: Path, open_index: Callable[..., RepoIndex]) -> None:
    write_files(repo, {f"m{i}.py": f"def m{i}(): pass\n" for i in range(5)})
    index = open_index(repo, workers=1)

    def progress(done: int, total: int) -> None:
        if done == 0:  # after the files were listed and stat'ed, before they are read
            (repo / "m3.py").unlink()

    summary = index.update(progress)
    assert [(s.path, s.reason) for s in summary.skipped_files] == [("m3.py", "vanished")]
    assert summary.indexed == 5  # good.py and m0..m4 without m3
    assert index.definitions("m3") == [] and index.definitions("m4")
    # The next scan no longer lists it at all.
    after = index.update()
    assert after.skipped_files == [] and index.outline("m3.py") == []


def test_every_reason_has_a_description() -> None:
    assert set(SKIP_REASONS) >= {
        "binary",
        "too_large",
        "invalid_utf8",
        "symlink_loop",
        "unreadable",
        "vanished",
    }
    assert all(text and text[0].islower() for text in SKIP_REASONS.values())
