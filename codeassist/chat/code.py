"""Fenced code blocks in Markdown answers (for /apply, /copy and /snippet)."""

from __future__ import annotations

import difflib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from codeassist.errors import UsageError

__all__ = ["CodeBlock", "code_blocks", "last_code_block", "preview_write", "write_code"]

_FENCE = re.compile(r"^(?P<indent>[ ]{0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`\n]*)$")


@dataclass(frozen=True)
class CodeBlock:
    language: str
    code: str


def code_blocks(markdown: str) -> list[CodeBlock]:
    """Every fenced block, in order; an unclosed last block runs to the end (streamed answers)."""
    blocks: list[CodeBlock] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        fence = opening.group("fence")
        body: list[str] = []
        i += 1
        while i < len(lines):
            stripped = lines[i].strip()
            if stripped.startswith(fence[0] * len(fence)) and set(stripped) == {fence[0]}:
                break
            body.append(lines[i])
            i += 1
        blocks.append(CodeBlock(opening.group("info").strip().split(" ")[0], "\n".join(body) + "\n"))
        i += 1
    return blocks


def last_code_block(markdown: str) -> str | None:
    blocks = code_blocks(markdown)
    return blocks[-1].code if blocks else None


def preview_write(path: Path, code: str) -> str:
    """What writing ``code`` to ``path`` changes, as a unified diff (a new file: all added)."""
    old = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    diff = difflib.unified_diff(old.splitlines(keepends=True), code.splitlines(keepends=True),
                                fromfile=f"a/{path.name}" if old else "/dev/null", tofile=f"b/{path.name}")
    return "".join(diff)


def write_code(path: Path, code: str) -> None:
    """Write ``code`` to ``path`` in one step (temporary file, then rename): never half-written."""
    if path.is_dir():
        raise UsageError(f"{path} is a directory.", hint="Give a file path: /apply PATH.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise UsageError(f"Cannot write {path}: {exc.strerror}.",
                         hint="Check the path and its permissions; nothing was changed.") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(code)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise UsageError(f"Cannot write {path}: {exc.strerror}.",
                         hint="Check free space and permissions; nothing was changed.") from exc
