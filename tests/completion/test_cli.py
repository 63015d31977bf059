"""`codeassist complete` and `codeassist snippet` as a user runs them (real process, real server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.llama import LlamaServerInfo

SOURCE = "\n".join([
    "import math",
    "",
    "",
    "def area_of_circle(radius):",
    "    return math.pi * radius ** 2",
    "",
    "",
    "def describe(radius):",
    "    area = area_of_circle(radius)",
    "    return area",
    "",
])


def run(args: list[str], cwd: Path, url: str) -> subprocess.CompletedProcess[str]:
    # a short generation and a generous timeout: CI machines are slow and shared
    env = {**os.environ, "CODEASSIST_SERVER_URL": url, "CODEASSIST_COMPLETION_TIMEOUT": "300",
           "CODEASSIST_COMPLETION_N_PREDICT": "16"}
    return subprocess.run([sys.executable, "-m", "codeassist", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "shapes.py"
    path.write_text(SOURCE)
    return path


def test_complete_json(source: Path, llama_server: LlamaServerInfo) -> None:
    # the user is typing the call's arguments: `    area = area_of_circle(|)`
    source.write_text(SOURCE.replace("area_of_circle(radius)\n    return", "area_of_circle()\n    return"))
    proc = run(["complete", str(source), "--line", "9", "--col", "27", "--json"], source.parent,
               llama_server.url)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["line"] == 9 and data["col"] == 27
    assert len(data["items"]) == 1 and data["items"][0].strip()
    assert "\n" not in data["items"][0]  # mid-line: one line at most
    timings = data["timings"]
    assert timings["mode"] == "completion"
    assert timings["prompt_tokens"] > 0
    assert timings["total_ms"] >= timings["server_ms"] > 0
    assert set(timings) >= {"cached_tokens", "predicted_tokens", "context_ms"}


def test_complete_uses_the_files_repository_index_brought_up_to_date(
        tmp_path: Path, llama_server: LlamaServerInfo) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "lib").mkdir()  # not next to report.py: its definitions come from the index
    (repo / "lib" / "geometry.py").write_text("def circle_area(radius):\n    return 3.14 * radius * radius\n")
    (repo / "report.py").write_text("from lib.geometry import ring_area\n\n\ndef show(outer, inner):\n"
                                    "    value = ring_area(outer, inner)\n    print(value)\n")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    assert run(["index"], repo, llama_server.url).returncode == 0
    # defined after the index was built: `complete` must see it without another `codeassist index`
    with (repo / "lib" / "geometry.py").open("a") as fh:
        fh.write("\n\ndef ring_area(outer, inner):\n    return circle_area(outer) - circle_area(inner)\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = run(["complete", str(repo / "report.py"), "--line", "6", "--col", "5", "--json"], elsewhere,
               llama_server.url)
    assert proc.returncode == 0, proc.stderr
    context = json.loads(proc.stdout)["context"]
    assert {"path": "lib/geometry.py", "start_line": 5, "end_line": 6, "kind": "definition"} in context
    assert not (elsewhere / ".codeassist").exists()


def test_complete_prints_timings_on_stderr(source: Path, llama_server: LlamaServerInfo) -> None:
    proc = run(["complete", str(source), "--line", "10", "--col", "5"], source.parent, llama_server.url)
    assert proc.returncode == 0, proc.stderr
    assert "-- completion: prompt " in proc.stderr
    assert "cached), " in proc.stderr and "total " in proc.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--line", "99", "--col", "1"], "Line 99 is outside"),
    (["--line", "1", "--col", "40"], "Column 40 is outside line 1"),
    (["--line", "0", "--col", "1"], "1-based"),
])
def test_complete_bad_position(source: Path, llama_server: LlamaServerInfo, args: list[str],
                               message: str) -> None:
    proc = run(["complete", str(source), *args], source.parent, llama_server.url)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_complete_missing_file(tmp_path: Path, llama_server: LlamaServerInfo) -> None:
    proc = run(["complete", str(tmp_path / "nope.py"), "--line", "1", "--col", "1"], tmp_path,
               llama_server.url)
    assert proc.returncode == 2
    assert "There is no file" in proc.stderr


def test_snippet(source: Path, llama_server: LlamaServerInfo) -> None:
    proc = run(["snippet", "return the circumference of a circle", "--file", str(source)],
               source.parent, llama_server.url)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() and "```" not in proc.stdout
    empty = run(["snippet", "  "], source.parent, llama_server.url)
    assert empty.returncode == 2
    assert "instruction is empty" in empty.stderr
