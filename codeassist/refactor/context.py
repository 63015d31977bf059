"""The context of a refactor: which files and identifiers are in play, and what Claude sees of them.

Files named in the instruction or given with ``--files``, identifiers of the instruction that the
index knows (their definitions and references pull in more files), and the repo map personalised
to all of them. File texts come from the base commit, never from the user's working tree. Private
files (privacy guard) are left out. Everything is fitted to a budget counted as characters / 4.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from codeassist.errors import UsageError

log = logging.getLogger(__name__)

CHARS_PER_TOKEN = 4
_WORDS = re.compile(r"[^\s`'\"(),;:<>\[\]{}]+")
_IDENT = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\b")
_MAX_IDENTS = 12
_MAX_REF_FILES = 24


class _Located(Protocol):
    @property
    def path(self) -> str: ...


class _Ref(Protocol):
    @property
    def path(self) -> str: ...

    @property
    def line(self) -> int: ...

    @property
    def col(self) -> int: ...


class _Map(Protocol):
    @property
    def text(self) -> str: ...


class IndexLike(Protocol):
    """The part of ``codeassist.index.RepoIndex`` that refactors use (context and validation)."""

    def definitions(self, name: str) -> Sequence[_Located]: ...

    def references(self, name: str) -> Sequence[_Ref]: ...

    def repo_map(self, tokens: int, focus_files: Sequence[str] = (),
                 focus_idents: Sequence[str] = ()) -> _Map: ...


@dataclass
class Context:
    files: dict[str, str] = field(default_factory=dict)  # path -> text at the base
    repo_map: str = ""
    focus_files: list[str] = field(default_factory=list)
    identifiers: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # over budget
    private: list[str] = field(default_factory=list)  # never sent

    def render_files(self) -> str:
        parts = [f'<file path="{path}">\n{text}\n</file>' for path, text in self.files.items()]
        return "\n\n".join(parts)


@dataclass(frozen=True)
class Budget:
    file_tokens: int = 24_000
    map_tokens: int = 2_048


def gather(
    instruction: str,
    explicit: Sequence[str],
    base_files: Sequence[str],
    read: Callable[[str], str | None],
    allowed: Callable[[str], bool],
    index: IndexLike | None,
    budget: Budget,
) -> Context:
    """Build the context; ``read(path)`` gives a file's text at the base commit."""
    known = set(base_files)
    ctx = Context()
    named = [p for p in explicit]
    missing = [p for p in named if p not in known]
    if missing:
        raise UsageError(f"The context files {', '.join(missing)} do not exist at the base commit.",
                         hint="Give paths relative to the repository root that exist at the base (--base; "
                              "default HEAD): new, uncommitted files are not part of a refactor.")
    named += [p for p in _paths_in(instruction, known) if p not in named]
    refs: list[str] = []
    if index is not None:
        ctx.identifiers = _identifiers(instruction, index)
        for name in ctx.identifiers:
            named += [d.path for d in index.definitions(name) if d.path in known and d.path not in named]
            refs += [r.path for r in index.references(name) if r.path in known]
    ordered = list(dict.fromkeys([*named, *refs[: _MAX_REF_FILES * 4]]))
    _fill(ctx, ordered[: len(named) + _MAX_REF_FILES], read, allowed, budget)
    if index is not None:
        ctx.repo_map = index.repo_map(budget.map_tokens, focus_files=ctx.focus_files,
                                      focus_idents=ctx.identifiers).text
    return ctx


def _paths_in(instruction: str, known: set[str]) -> list[str]:
    """Repository files the instruction names: paths, or file names that are unique in the repo
    (dotfiles such as ``.eslintrc.json`` included)."""
    by_name: dict[str, list[str]] = {}
    for path in known:
        by_name.setdefault(path.rsplit("/", 1)[-1], []).append(path)
    found: list[str] = []
    for match in _WORDS.finditer(instruction):
        candidate = match.group(0).replace("\\", "/").rstrip(".!?")
        candidate = candidate.removeprefix("./")
        if candidate in known:
            found.append(candidate)
        elif len(by_name.get(candidate, ())) == 1:  # a bare file name that is unique in the repository
            found.append(by_name[candidate][0])
    return list(dict.fromkeys(found))


def _identifiers(instruction: str, index: IndexLike) -> list[str]:
    names: list[str] = []
    for match in _IDENT.finditer(instruction):
        for part in match.group(0).split("."):
            if len(part) > 2 and part not in names and index.definitions(part):
                names.append(part)
    return names[:_MAX_IDENTS]


def _fill(ctx: Context, paths: Sequence[str], read: Callable[[str], str | None],
          allowed: Callable[[str], bool], budget: Budget) -> None:
    room = budget.file_tokens * CHARS_PER_TOKEN
    for path in paths:
        if not allowed(path):
            ctx.private.append(path)
            continue
        text = read(path)
        if text is None:
            continue
        ctx.focus_files.append(path)
        if len(text) > room:
            ctx.left_out.append(path)
            continue
        ctx.files[path] = text
        room -= len(text)
    if ctx.left_out:
        log.info("left out of the context (over budget): %s", ", ".join(ctx.left_out))
