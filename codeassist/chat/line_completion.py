"""Completion of the input line: slash commands, then file paths for the commands that take one."""

from __future__ import annotations

import os
from pathlib import Path

from codeassist.chat.commands import COMMANDS

__all__ = ["complete_line", "complete_path"]

_SKIP_DIRS = {".git", ".codeassist", "__pycache__", "node_modules", ".venv", ".mypy_cache", ".ruff_cache"}
_PATH_COMMANDS = {f"/{spec.name}" for spec in COMMANDS if spec.arg == "path"}
MAX_OPTIONS = 50


def complete_line(line: str, root: str | Path) -> list[str]:
    """Whole-line candidates for ``line`` (the first is the best), empty when nothing fits."""
    if not line.startswith("/"):
        return []
    head, sep, rest = line.partition(" ")
    if not sep:
        return [f"/{spec.name}" for spec in COMMANDS if f"/{spec.name}".startswith(head) and
                f"/{spec.name}" != head]
    if head in _PATH_COMMANDS and " " not in rest:
        return [f"{head} {path}" for path in complete_path(rest, Path(root))]
    if head == "/think" and " " not in rest:
        return [f"/think {word}" for word in ("on", "off") if word.startswith(rest) and word != rest]
    return []


def complete_path(prefix: str, root: Path) -> list[str]:
    """Repo-relative paths starting with ``prefix``; directories end with ``/``."""
    directory, _, stem = prefix.rpartition("/")
    base = root / directory if directory else root
    try:
        entries = sorted(os.scandir(base), key=lambda e: e.name)
    except OSError:
        return []
    out: list[str] = []
    for entry in entries:
        if not entry.name.startswith(stem) or entry.name in _SKIP_DIRS:
            continue
        if entry.name.startswith(".") and not stem.startswith("."):
            continue
        candidate = f"{directory}/{entry.name}" if directory else entry.name
        if entry.is_dir():
            candidate += "/"
        if candidate != prefix:
            out.append(candidate)
        if len(out) >= MAX_OPTIONS:
            break
    return out
