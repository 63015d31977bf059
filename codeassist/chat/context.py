"""What the chat attaches to a question: the repo map within a budget and the files added with /add."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from codeassist.chat.routing import mentioned_paths
from codeassist.errors import UsageError

__all__ = ["ChatContext", "ContextFile", "estimate_tokens"]

if TYPE_CHECKING:
    from codeassist.index import RepoIndex, Symbol
    from codeassist.privacy.guard import PrivacyGuard

log = logging.getLogger(__name__)

MAX_FILE_CHARS = 200_000


def estimate_tokens(text: str) -> int:
    """A quick size estimate (about 4 characters per token for code and English)."""
    return (len(text) + 3) // 4


class _Guard(Protocol):
    def allowed(self, path: str | Path) -> bool: ...


@dataclass(frozen=True)
class ContextFile:
    path: str  # repo-relative, posix
    text: str


class ChatContext:
    """Files in play (``/add``, ``/drop``) and the repository map (``/map``) for one conversation."""

    def __init__(self, root: Path, index: RepoIndex | None) -> None:
        self.root = root.resolve()
        self.index = index
        self._files: list[str] = []

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(self._files)

    def resolve(self, raw: str) -> tuple[str, Path]:
        """A user-typed path -> (repo-relative posix path, absolute path); errors say what to do."""
        candidate = Path(raw).expanduser()
        full = (candidate if candidate.is_absolute() else self.root / candidate).resolve()
        try:
            rel = full.relative_to(self.root).as_posix()
        except ValueError:
            raise UsageError(f"{raw} is outside the repository {self.root}.",
                             hint="Only files of this repository can go into the context.") from None
        return rel, full

    def add(self, raw: str) -> str:
        rel, full = self.resolve(raw)
        if full.is_dir():
            raise UsageError(f"{raw} is a directory.", hint="Add the files one by one: /add PATH.")
        if not full.is_file():
            raise UsageError(f"There is no file {raw} in {self.root}.",
                             hint="Check the path; Tab completes file names.")
        if rel not in self._files:
            self._files.append(rel)
        return rel

    def drop(self, raw: str = "") -> list[str]:
        """Drop one file (or all of them with an empty argument); returns what was dropped."""
        if not raw:
            dropped, self._files = self._files, []
            return dropped
        rel, _ = self.resolve(raw)
        if rel not in self._files:
            raise UsageError(f"{raw} is not in the context.",
                             hint="The context holds: " + (", ".join(self._files) or "no files") + ".")
        self._files.remove(rel)
        return [rel]

    def read_files(self, guard: _Guard | None = None) -> tuple[list[ContextFile], list[str]]:
        """The added files' text; with a guard, secret files are left out. Returns (files, left out)."""
        out: list[ContextFile] = []
        left_out: list[str] = []
        for rel in self._files:
            if guard is not None and not guard.allowed(rel):
                left_out.append(rel)
                continue
            try:
                text = (self.root / rel).read_text(encoding="utf-8", errors="replace")[:MAX_FILE_CHARS]
            except OSError as exc:
                log.warning("cannot read %s: %s", rel, exc)
                left_out.append(rel)
                continue
            out.append(ContextFile(rel, text))
        return out, left_out

    def cloud_files(self, guard: PrivacyGuard, text: str = "") -> tuple[list[ContextFile], list[str]]:
        """What may go to the cloud of the added files and the files ``text`` mentions by path.

        Both are files the user named, so git-ignored ones may go; secret files, links leaving the
        repository and binary files never do. Returns (files, notices: left out or cut, and why)."""
        from codeassist.privacy.sources import read_for_cloud

        named = list(self._files)
        for word in mentioned_paths(text):
            candidate = Path(os.path.normpath(self.root / word))  # links are judged, not followed
            try:
                rel = candidate.relative_to(self.root).as_posix()
            except ValueError:
                continue
            if rel not in named and (candidate.is_file() or candidate.is_symlink()):
                named.append(rel)
        out: list[ContextFile] = []
        notices: list[str] = []
        for rel in named:
            got = read_for_cloud(guard, self.root, rel, named=True, max_chars=MAX_FILE_CHARS)
            if got.refused is not None:
                notices.append(f"{rel} was not sent to Claude: {got.refused}")
                continue
            notices.extend(got.notes)
            out.append(ContextFile(rel, got.text))
        return out, notices

    def repo_map(self, tokens: int, focus_idents: tuple[str, ...] = ()) -> str:
        """The ranked repository map focused on the files in play; empty without an index."""
        if self.index is None or tokens <= 0:
            return ""
        return self.index.repo_map(tokens, focus_files=self.files, focus_idents=focus_idents).text

    def symbols(self, query: str, limit: int = 30) -> list[Symbol]:
        if self.index is None:
            raise UsageError("The repository index is not available.",
                             hint="Run `codeassist index` in the repository, then try again.")
        return self.index.symbols(query, limit=limit)
