"""Value objects of the completion engine: the request, the result and its timings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Mode = Literal["infill", "completion", "cache"]


@dataclass(frozen=True)
class CompletionRequest:
    """One completion position.

    ``line`` and ``col`` are 0-based; ``col`` counts Python ``str`` characters (code points).
    ``open_documents`` maps other open files (repo-relative or absolute paths) to their text.
    """

    text: str
    line: int
    col: int
    path: str
    language: str
    open_documents: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CompletionTimings:
    """Where the time went. ``server_ms`` is what llama-server reports (prompt + generation), for
    all the requests of the position: ``second_choices`` of them went on from the model's next
    most likely tokens where its first answer did not fit the code after it."""

    mode: Mode
    prompt_tokens: int = 0
    cached_tokens: int = 0
    predicted_tokens: int = 0
    server_ms: float = 0.0
    context_ms: float = 0.0
    total_ms: float = 0.0
    second_choices: int = 0

    def as_dict(self) -> dict[str, float | int | str]:
        return {
            "mode": self.mode,
            "prompt_tokens": self.prompt_tokens,
            "cached_tokens": self.cached_tokens,
            "predicted_tokens": self.predicted_tokens,
            "server_ms": round(self.server_ms, 2),
            "context_ms": round(self.context_ms, 2),
            "total_ms": round(self.total_ms, 2),
            "second_choices": self.second_choices,
        }


@dataclass(frozen=True)
class CompletionResult:
    """Post-processed suggestions (possibly none) for the request's position."""

    items: list[str]
    timings: CompletionTimings
    cached: bool = False
    context: tuple[ContextChunk, ...] = ()  # the repository context the prompt carried


@dataclass(frozen=True)
class ContextChunk:
    """A piece of repository context put before the cursor window in the prompt."""

    path: str
    start_line: int  # 0-based, inclusive
    end_line: int  # 0-based, exclusive
    text: str
    kind: Literal["definition", "edit", "open", "similar"]
