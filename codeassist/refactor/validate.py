"""Validation of a worktree after the edits: syntax, leftover references, the user's test command.

- **Syntax**: every touched file still parses with tree-sitter (through ``codeassist.index``'s
  tree-sitter module): an edited file may not have more syntax errors (ERROR or MISSING nodes)
  than it had at the base, a created file must parse cleanly.
- **Leftover references**: names defined in the touched files at the base but defined nowhere
  after the edit (renamed or removed) must not be referenced any more — neither in the touched
  files (parsed again) nor in the other files of the worktree (found with ``git grep`` in the
  worktree, then parsed, so comments and strings do not count). The worktree is the truth here:
  the user's index may describe a working tree that differs from the refactor's base.
- **Test command**: ``--test-cmd`` runs in the worktree through the shell; non-zero exit fails.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from codeassist.errors import IndexError_
from codeassist.index.languages import language_for_path
from codeassist.index.treesitter import parse, syntax_errors
from codeassist.refactor.models import FileStatus

log = logging.getLogger(__name__)

_OUTPUT_TAIL = 3000
_MAX_LEFTOVERS = 20
_MAX_FILES_PARSED = 200  # per removed name: files that mention it, parsed to find references


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
    files_containing: Callable[[str], list[str]],
    test_cmd: str | None,
    *,
    test_timeout: float = 900.0,
) -> Validation:
    """Check the worktree; ``base_text(path)`` gives a file's text at the base commit and
    ``files_containing(word)`` the worktree's files holding a word (``Worktree.files_containing``)."""
    result = Validation()
    new_texts = {p: _read(worktree / p) for p, status in touched.items() if status != "deleted"}
    _check_syntax(new_texts, touched, base_text, result)
    _check_leftovers(worktree, new_texts, touched, base_text, files_containing, result)
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
            errors = syntax_errors(language, text)
            if not errors:
                continue
            old = base_text(path) if touched[path] == "modified" else None
            before = len(syntax_errors(language, old)) if old is not None else 0
        except IndexError_ as exc:
            log.warning("cannot parse %s: %s", path, exc.message)
            continue
        if len(errors) <= before:
            log.info("%s has %d syntax error(s), as many as at the base; not counted", path, before)
            continue
        where = ", ".join(f"line {line + 1}" for line in errors[:5])
        had = f" (it had {before} at the base)" if before else ""
        result.failures.append(f"{path} no longer parses as {language}: tree-sitter reports {len(errors)} "
                               f"syntax error(s){had}, at {where}. View it and fix the syntax.")


def _names(language: str, text: str) -> tuple[set[str], list[tuple[str, int, int]]]:
    parsed = parse(language, text.encode("utf-8"), text)
    return {d[0] for d in parsed.defs}, parsed.refs


def _check_leftovers(worktree: Path, new_texts: Mapping[str, str | None], touched: Mapping[str, FileStatus],
                     base_text: Callable[[str], str | None], files_containing: Callable[[str], list[str]],
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
    for name in gone:
        elsewhere = _elsewhere(worktree, name, files_containing(name), touched)
        if elsewhere is None:
            continue  # still defined in another file: references may well be to that one
        leftovers = [f"{p}:{ln + 1}:{c + 1}" for n, p, ln, c in refs_after if n == name] + elsewhere
        if leftovers:
            result.failures.append(
                f"`{name}` was renamed or removed, but it is still referenced at "
                f"{', '.join(leftovers[:_MAX_LEFTOVERS])}. Update those references."
            )


def _elsewhere(worktree: Path, name: str, candidates: list[str], touched: Mapping[str, FileStatus]
               ) -> list[str] | None:
    """References to ``name`` in untouched files ("path:line:col"), or None when one defines it."""
    found: list[str] = []
    for path in candidates[:_MAX_FILES_PARSED]:
        language = language_for_path(path)
        text = _read(worktree / path) if language is not None and path not in touched else None
        if language is None or text is None:
            continue
        try:
            defs, refs = _names(language, text)
        except IndexError_ as exc:
            log.warning("cannot extract symbols of %s: %s", path, exc.message)
            continue
        if name in defs:
            return None
        found += [f"{path}:{line + 1}:{col + 1}" for ref, line, col in refs if ref == name]
    return found


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
