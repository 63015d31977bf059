"""Which files of a repository are indexed.

In a git work tree: tracked plus untracked-but-not-ignored files, as ``git ls-files --cached
--others --exclude-standard`` lists them (so ``.gitignore``, ``.git/info/exclude`` and the user's
global excludes apply). This is a read-only listing; every git *operation* lives in
``codeassist.refactor.gitops``. In a plain directory: a walk that honours ``.gitignore`` files.
In both, ``.codeassistignore`` (gitignore syntax, repository root) and ``index.extra_ignore``
patterns drop more, and ``.git/`` and ``.codeassist/`` are never listed.

``ensure_git_excludes`` adds ``/.codeassist/`` to ``.git/info/exclude`` so the index never shows up
in ``git status``; the user's ``.gitignore`` is never edited.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from codeassist.paths import REPO_DIR_NAME

__all__ = ["IGNORE_FILE", "IgnoreRules", "ensure_git_excludes", "list_files"]

log = logging.getLogger(__name__)
IGNORE_FILE = ".codeassistignore"
_ALWAYS_SKIPPED_DIRS = frozenset({".git", REPO_DIR_NAME})
_EXCLUDE_LINE = f"/{REPO_DIR_NAME}/"


def _translate(pattern: str) -> str:
    """One gitignore glob (without its anchoring slash) as a regular expression."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            close = pattern.find("]", i + 1)
            if close < 0:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1 : close].replace("\\", "\\\\")
                out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
                i = close
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)


class IgnoreRules:
    """gitignore-style rules; the last matching rule wins, ``!`` re-includes."""

    def __init__(self) -> None:
        self._rules: list[tuple[re.Pattern[str], bool, bool]] = []  # (regex, negated, dir_only)

    def add(self, lines: Iterable[str], base: str = "") -> None:
        """Add rules read from a file in directory ``base`` ("" = repository root, posix)."""
        prefix = re.escape(base + "/") if base else ""
        for raw in lines:
            line = raw.rstrip("\n").rstrip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            line = line[1:] if negated else line
            dir_only = line.endswith("/")
            line = line.rstrip("/")
            if not line:
                continue
            anchored = "/" in line
            body = _translate(line.lstrip("/"))
            regex = prefix + body if anchored else prefix + "(?:.*/)?" + body
            self._rules.append((re.compile(regex + r"\Z"), negated, dir_only))

    def __bool__(self) -> bool:
        return bool(self._rules)

    def matches(self, path: str, is_dir: bool) -> bool:
        """Whether ``path`` itself (not its parents) is ignored."""
        result = False
        for regex, negated, dir_only in self._rules:
            if dir_only and not is_dir:
                continue
            if regex.match(path):
                result = not negated
        return result

    def filter(self, paths: Iterable[str]) -> list[str]:
        """``paths`` without those ignored themselves or through an ignored parent directory."""
        dir_cache: dict[str, bool] = {}

        def dir_ignored(directory: str) -> bool:
            if not directory:
                return False
            hit = dir_cache.get(directory)
            if hit is None:
                parent = directory.rpartition("/")[0]
                hit = dir_ignored(parent) or self.matches(directory, True)
                dir_cache[directory] = hit
            return hit

        return [p for p in paths if not dir_ignored(p.rpartition("/")[0]) and not self.matches(p, False)]


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


def _repo_rules(root: Path, extra_ignore: Sequence[str]) -> IgnoreRules:
    rules = IgnoreRules()
    rules.add(_read_lines(root / IGNORE_FILE))
    rules.add(extra_ignore)
    return rules


def _git_ls_files(root: Path) -> list[str] | None:
    cmd = ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    try:
        done = subprocess.run(cmd, capture_output=True, check=True, timeout=120)
    except FileNotFoundError:
        log.warning("git is not installed; walking %s as a plain directory.", root)
        return None
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        stderr = getattr(exc, "stderr", b"") or b""
        log.warning(
            "git ls-files failed in %s (%s); walking it as a plain directory.",
            root,
            stderr.decode("utf-8", "replace").strip() or exc,
        )
        return None
    names = done.stdout.decode("utf-8", "surrogateescape").split("\0")
    return list(dict.fromkeys(n for n in names if n))


def _walk(root: Path) -> list[str]:
    rules = IgnoreRules()
    out: list[str] = []
    prefix = len(str(root)) + 1
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        base = dirpath[prefix:].replace(os.sep, "/")
        if ".gitignore" in filenames:
            rules.add(_read_lines(Path(dirpath) / ".gitignore"), base)
        keep = []
        for name in sorted(dirnames):
            sub = f"{base}/{name}" if base else name
            if name in _ALWAYS_SKIPPED_DIRS or rules.matches(sub, True):
                continue
            keep.append(name)
        dirnames[:] = keep
        for name in sorted(filenames):
            path = f"{base}/{name}" if base else name
            if not rules.matches(path, False):
                out.append(path)
    return out


def is_git_worktree(root: Path) -> bool:
    return (root / ".git").exists()


def list_files(root: Path, extra_ignore: Sequence[str] = ()) -> list[str]:
    """Repo-relative posix paths of the files to consider, in a stable order."""
    listed = _git_ls_files(root) if is_git_worktree(root) else None
    if listed is None:
        listed = _walk(root)
    listed = [p for p in listed if p.split("/", 1)[0] not in _ALWAYS_SKIPPED_DIRS]
    rules = _repo_rules(root, extra_ignore)
    return rules.filter(listed) if rules else listed


def _git_dir(root: Path) -> Path | None:
    dot_git = root / ".git"
    if dot_git.is_dir():
        return dot_git
    if dot_git.is_file():  # a linked work tree: "gitdir: <path>"
        text = dot_git.read_text(encoding="utf-8", errors="replace").strip()
        if text.startswith("gitdir:"):
            git_dir = (root / text[7:].strip()).resolve()
            common = git_dir / "commondir"
            if common.is_file():
                return (git_dir / common.read_text(encoding="utf-8").strip()).resolve()
            return git_dir
    return None


def ensure_git_excludes(root: Path) -> None:
    """Make git ignore ``.codeassist/`` through ``.git/info/exclude`` (never ``.gitignore``)."""
    git_dir = _git_dir(root)
    if git_dir is None:
        return
    exclude = git_dir / "info" / "exclude"
    lines = _read_lines(exclude)
    if _EXCLUDE_LINE in (line.strip() for line in lines):
        return
    try:
        exclude.parent.mkdir(parents=True, exist_ok=True)
        existing = exclude.read_text(encoding="utf-8") if exclude.is_file() else ""
        sep = "" if not existing or existing.endswith("\n") else "\n"
        with exclude.open("a", encoding="utf-8") as fh:
            fh.write(f"{sep}# codeassist index\n{_EXCLUDE_LINE}\n")
    except OSError as exc:
        log.warning("Could not add %s to %s: %s", _EXCLUDE_LINE, exclude, exc)
