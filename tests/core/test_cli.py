"""The CLI as a user runs it: a real subprocess of the installed `codeassist` entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codeassist import __version__
from codeassist.cli import COMMANDS


def run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "codeassist", *args], cwd=cwd, env=env or dict(os.environ),
                          capture_output=True, text=True, timeout=120)


def test_version_and_help() -> None:
    out = run("--version")
    assert out.returncode == 0
    assert __version__ in out.stdout
    out = run("--help")
    assert out.returncode == 0
    for name in COMMANDS:
        assert name in out.stdout
    assert "Exit codes" in out.stdout


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help(name: str) -> None:
    out = run(name, "--help")
    assert out.returncode == 0, out.stderr
    assert "Usage:" in out.stdout


def test_unknown_command_is_a_usage_error() -> None:
    out = run("frobnicate")
    assert out.returncode == 2
    assert "No such command" in out.stderr


def test_config_show_lists_values_and_sources(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".codeassist.toml").write_text("[server]\nport = 9100\n")
    env = dict(os.environ, CODEASSIST_COMPLETION_DEBOUNCE_MS="75")
    out = run("config", "show", "--json", cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["server.port"] == {"value": 9100, "source": str(tmp_path.resolve() / ".codeassist.toml")}
    assert data["completion.debounce_ms"] == {"value": 75, "source": "env CODEASSIST_COMPLETION_DEBOUNCE_MS"}
    assert data["server.host"]["source"] == "default"
    plain = run("config", "show", cwd=tmp_path, env=env)
    assert "server.port" in plain.stdout and "9100" in plain.stdout


def test_bad_config_gives_one_message_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".codeassist.toml").write_text("[server]\nport = 'x'\n")
    out = run("config", "show", cwd=tmp_path)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert "server.port" in out.stderr and ".codeassist.toml" in out.stderr
    assert "an integer" in out.stderr
