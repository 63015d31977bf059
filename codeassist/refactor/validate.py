"""Validation of a worktree after the edits: syntax, leftover references, the user's test command.

- **Syntax**: every touched file still parses with tree-sitter (through ``codeassist.index``'s
  tree-sitter module): a file that parsed cleanly at the base must parse cleanly after the edit,
  a created file must parse cleanly.
- **Leftover references**: names defined in the touched files at the base but defined nowhere
  after the edit (renamed or removed) must not be referenced any more — neither in the touched
  files (parsed again) nor in the other files (found through the repository index).
- **Test command**: ``--test-cmd`` runs in the worktree through the shell; non-zero exit fails.
"""

from __future__ import annotations

import logging
import re
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from codeassist.errors import IndexError_
from codeassist.index.languages import language_for_path
from codeassist.index.treesitter import has_syntax_errors, parse
from codeassist.refactor.context import IndexLike
from codeassist.refactor.models import FileStatus

log = logging.getLogger(__name__)

_OUTPUT_TAIL = 3000
_MAX_LEFTOVERS = 20


@dataclass
class Validation:
    failures: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)  # what was checked, for the report

    @property
    def ok(self) -> bool:
        return not self.failures


def validate(
    worktree: Path,
    touched: Mapping[str, FileStatus],
    base_text: Callable[[str], str | None],
    index: IndexLike | None,
    test_cmd: str | None,
    *,
    test_timeout: float = 900.0,
) -> Validation:
    """Check the worktree; ``base_text(path)`` gives a file's text at the base commit."""
    result = Validation()
    new_texts = {p: _read(worktree / p) for p, status in touched.items() if status != "deleted"}
    _check_syntax(new_texts, touched, base_text, result)
    _check_leftovers(worktree, new_texts, touched, base_text, index, result)
    if test_cmd:
        _run_tests(worktree, test_cmd, test_timeout, result)
    return result


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _check_syntax(new_texts: Mapping[str, str | None], touched: Mapping[str, FileStatus],
                  base_text: Callable[[str], str | None], result: Validation) -> None:
    for path, text in sorted(new_texts.items()):
        language = language_for_path(path)
        if language is None or text is None:
            continue
        result.checked.append(f"parse {path}")
        try:
            if not has_syntax_errors(language, text):
                continue
            old = base_text(path) if touched[path] == "modified" else None
            if old is not None and has_syntax_errors(language, old):
                log.info("%s had syntax errors at the base already; not counted", path)
                continue
        except IndexError_ as exc:
            log.warning("cannot parse %s: %s", path, exc.message)
            continue
        result.failures.append(f"{path} no longer parses as {language} (tree-sitter reports a syntax "
                               "error). View it and fix the syntax.")


def _names(language: str, text: str) -> tuple[set[str], list[tuple[str, int, int]]]:
    parsed = parse(language, text.encode("utf-8"), text)
    return {d[0] for d in parsed.defs}, parsed.refs


def _check_leftovers(worktree: Path, new_texts: Mapping[str, str | None], touched: Mapping[str, FileStatus],
                     base_text: Callable[[str], str | None], index: IndexLike | None,
                     result: Validation) -> None:
    before: set[str] = set()
    after: set[str] = set()
    refs_after: list[tuple[str, str, int, int]] = []
    for path, status in touched.items():
        language = language_for_path(path)
        if language is None:
            continue
        try:
            old = base_text(path) if status != "created" else None
            if old is not None:
                before |= _names(language, old)[0]
            new = new_texts.get(path)
            if new is not None:
                defs, refs = _names(language, new)
                after |= defs
                refs_after += [(name, path, line, col) for name, line, col in refs]
        except IndexError_ as exc:
            log.warning("cannot extract symbols of %s: %s", path, exc.message)
    gone = sorted(before - after)
    if gone:
        result.checked.append(f"leftover references to {', '.join(gone[:10])}")
    leftovers: list[str] = []
    for name in gone:
        if index is not None and any(d.path not in touched for d in index.definitions(name)):
            continue  # still defined elsewhere: references may well be to that one
        leftovers += [f"{p}:{ln + 1}:{c + 1}" for n, p, ln, c in refs_after if n == name]
        if index is not None:
            leftovers += [f"{r.path}:{r.line + 1}:{r.col + 1}" for r in index.references(name)
                          if r.path not in touched and _still_there(worktree / r.path, name, r.line)]
        if leftovers:
            result.failures.append(
                f"`{name}` was renamed or removed, but it is still referenced at "
                f"{', '.join(leftovers[:_MAX_LEFTOVERS])}. Update those references."
            )
            leftovers = []


def _still_there(path: Path, name: str, line: int) -> bool:
    """The index may be of the user's working tree; check the reference exists in the worktree."""
    text = _read(path)
    if text is None:
        return False
    lines = text.split("\n")
    return line < len(lines) and re.search(rf"\b{re.escape(name)}\b", lines[line]) is not None


def _run_tests(worktree: Path, test_cmd: str, timeout: float, result: Validation) -> None:
    result.checked.append(f"test command `{test_cmd}`")
    try:
        proc = subprocess.run(test_cmd, shell=True, cwd=worktree, capture_output=True, text=True,
                              timeout=timeout, check=False, errors="replace")
    except subprocess.TimeoutExpired:
        result.failures.append(f"The test command `{test_cmd}` did not finish within {timeout:.0f} s.")
        return
    except OSError as exc:
        result.failures.append(f"The test command `{test_cmd}` could not start: {exc.strerror}.")
        return
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr)[-_OUTPUT_TAIL:]
        result.failures.append(f"The test command `{test_cmd}` failed (exit {proc.returncode}). "
                               f"Last output:\n{output}")
