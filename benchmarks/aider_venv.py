"""Create (once) the virtual environment the benchmark runs aider's RepoMap in.

aider-chat pins many dependencies that conflict with codeassist's, so it lives in its own venv:
``~/.cache/codeassist/bench/aider-venv`` (under $XDG_CACHE_HOME when set). Run directly to
install it; ``index_bench.py`` calls ``ensure()``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

AIDER_SPEC = os.environ.get("AIDER_SPEC", "aider-chat")


def venv_dir() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "codeassist" / "bench" / "aider-venv"


def python() -> Path:
    return venv_dir() / "bin" / "python"


def installed() -> bool:
    if not python().exists():
        return False
    probe = subprocess.run([str(python()), "-c", "import aider.repomap"], capture_output=True)
    return probe.returncode == 0


def ensure() -> Path:
    """The venv's python, after installing aider-chat into it when needed."""
    if installed():
        return python()
    print(f"installing {AIDER_SPEC} into {venv_dir()} (a few minutes, once)...", file=sys.stderr)
    venv.EnvBuilder(with_pip=True, clear=False).create(venv_dir())
    subprocess.run([str(python()), "-m", "pip", "install", "--quiet", AIDER_SPEC], check=True)
    return python()


if __name__ == "__main__":
    print(ensure())
