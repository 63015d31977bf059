"""The value objects of the index API."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Reference", "RepoMap", "ScanSummary", "Skipped", "Symbol"]


@dataclass(frozen=True, slots=True)
class Symbol:
    """A definition. 0-based lines and ``str`` columns; ``path`` is repo-relative posix."""

    name: str
    kind: str  # function, method, class, interface, module, constant, type, ...
    path: str
    line: int
    col: int
    end_line: int
    end_col: int
    signature: str  # the header only: "def f(a, b) -> int:", "class A(Base):"
    scope: str  # enclosing definitions, "Outer.Inner", "" at top level


@dataclass(frozen=True, slots=True)
class Reference:
    name: str
    path: str
    line: int
    col: int


@dataclass(frozen=True, slots=True)
class Skipped:
    path: str
    reason: str  # a key of codeassist.index.SKIP_REASONS
    detail: str = ""


@dataclass
class ScanSummary:
    files: int = 0  # files listed in the repository
    indexed: int = 0  # parsed in this scan
    unchanged: int = 0  # already up to date (size+mtime or content hash)
    removed: int = 0  # rows dropped for deleted / renamed / now ignored files
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count
    skipped_files: list[Skipped] = field(default_factory=list)
    total_indexed: int = 0  # files in the index after the scan
    definitions: int = 0
    references: int = 0
    seconds: float = 0.0

    @property
    def files_per_second(self) -> float:
        return self.files / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["files_per_second"] = round(self.files_per_second, 1)
        data["seconds"] = round(self.seconds, 3)
        return data


@dataclass(frozen=True)
class RepoMap:
    text: str
    files: list[str]  # the files the map shows, most relevant first
    tokens: int  # the text's size as counted by the count_tokens used
