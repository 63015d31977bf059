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
    proc = run(["complete", str(source), "--line", "9", "--col", "12", "--json"], source.parent,
               llama_server.url)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["line"] == 9 and data["col"] == 12
    assert isinstance(data["items"], list)
    assert all("\n" not in item for item in data["items"])  # mid-line: one line at most
    timings = data["timings"]
    assert timings["mode"] == "completion"
    assert timings["prompt_tokens"] > 0
    assert timings["total_ms"] >= timings["server_ms"] > 0
    assert set(timings) >= {"cached_tokens", "predicted_tokens", "context_ms"}


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
    assert "Traceback" not in proc.stderr
    if proc.returncode == 0:
        assert proc.stdout.strip()
        assert "```" not in proc.stdout
    else:  # the tiny model may produce nothing usable: that is said clearly
        assert proc.returncode == 1
        assert "returned no code" in proc.stderr
    empty = run(["snippet", "  "], source.parent, llama_server.url)
    assert empty.returncode == 2
    assert "instruction is empty" in empty.stderr
