"""`codeassist index`, `map` and `symbols` run the way a user runs them: a subprocess."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from tests.index.conftest import write_files


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codeassist", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def repo(poly_repo: Path) -> Path:
    write_files(poly_repo, {"bin.py": b"\x00\x00", "huge.py": "x = 1\n" * 300_000})
    return poly_repo


def test_index_json_then_incremental(repo: Path) -> None:
    first = run("index", "--json", cwd=repo)
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    assert data["indexed"] == 15 and data["skipped"] == {"unsupported": 1, "binary": 1, "too_large": 1}
    assert data["definitions"] > 30 and data["files_per_second"] > 0
    assert {(s["path"], s["reason"]) for s in data["skipped_files"]} == {
        ("bin.py", "binary"),
        ("huge.py", "too_large"),
    }
    second = json.loads(run("index", "--json", cwd=repo).stdout)
    assert (second["indexed"], second["unchanged"]) == (0, 15)


def test_index_summary_and_verbose(repo: Path) -> None:
    plain = run("index", cwd=repo)
    assert plain.returncode == 0
    assert (
        "15 indexed" in plain.stdout
        and "Skipped: 1 binary, 1 too large (--verbose lists them)." in plain.stdout
    )
    assert "bin.py" not in plain.stdout
    verbose = run("index", "--verbose", cwd=repo)
    assert "  bin.py: binary file (NUL bytes)" in verbose.stdout
    assert "  huge.py: larger than index.max_file_size" in verbose.stdout


def test_a_folder_inside_a_repository_indexes_the_repository(repo: Path, tmp_path: Path) -> None:
    write_files(repo, {"sub/inner.py": "def inner_function(): pass\n",
                       "sub/gen/out.py": "def generated(): pass\n"})
    (repo / ".gitignore").write_text("gen/\n", encoding="utf-8")
    done = run("index", "--json", str(repo / "sub"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "indexing the repository" in done.stderr
    assert not (repo / "sub" / ".codeassist").exists() and (repo / ".codeassist" / "index.db").is_file()
    found = run("symbols", "inner_function", cwd=repo / "sub")
    assert found.returncode == 0 and "sub/inner.py" in found.stdout
    assert run("symbols", "generated", cwd=repo).returncode == 1  # the repository's .gitignore applies
    status = subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True)
    assert ".codeassist" not in status.stdout


def test_index_path_argument_and_config(repo: Path, tmp_path: Path) -> None:
    (repo / ".codeassist.toml").write_text("[index]\nmax_file_size = 100\n", encoding="utf-8")
    done = run("index", "--json", str(repo), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    skipped = json.loads(done.stdout)["skipped"]
    assert skipped["too_large"] > 5  # the repository's own config applies


def test_bad_path_is_a_clear_error(tmp_path: Path) -> None:
    done = run("index", str(tmp_path / "missing"), cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "missing" in done.stderr


def test_map_with_focus(repo: Path) -> None:
    done = run("map", "--tokens", "60", "--focus", "web/view.ts", "--focus", "fetchUser", cwd=repo)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "web/client.js:"
    assert "fetchUser(id)" in done.stdout
    assert len(done.stdout) <= 60 * 4
    as_json = json.loads(run("map", "--json", "--tokens", "5000", cwd=repo).stdout)
    assert as_json["tokens"] <= 5000 and "app/models.py" in as_json["files"]
    headers = [line[:-1] for line in as_json["text"].splitlines() if not line.startswith(" ")]
    assert headers == as_json["files"]


def test_symbols_prints_one_based_positions(repo: Path, tmp_path: Path) -> None:
    done = run("-C", str(repo), "symbols", "gree", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        'app/models.py:16:9  method  User.greet  def greet(self, other: "User") -> str:',
        "ruby/greeter.rb:3:7  class  Greeter  class Greeter",
    ]
    data = json.loads(run("symbols", "--json", "User", cwd=repo).stdout)
    assert data[0]["name"] == "User" and data[0]["line"] == 9


def test_symbols_without_match_exits_1(repo: Path) -> None:
    done = run("symbols", "zzz_nothing", cwd=repo)
    assert done.returncode == 1
    assert done.stdout == "" and "No definition matches 'zzz_nothing'." in done.stderr


def _run_in_terminal(args: list[str], cwd: Path) -> bytes:
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "codeassist", *args],
        cwd=cwd,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env={**os.environ, "TERM": "xterm", "COLUMNS": "100"},
    )
    os.close(terminal)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the terminal closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    assert proc.wait(timeout=120) == 0
    return b"".join(chunks)


def test_progress_bar_only_on_a_terminal(repo: Path) -> None:
    on_tty = _run_in_terminal(["index"], repo)
    assert b"indexing" in on_tty and b"15 indexed" in on_tty
    piped = run("index", "--rebuild", cwd=repo)
    assert "indexing" not in piped.stdout + piped.stderr and "15 indexed" in piped.stdout
