"""Render ranked definitions as a repository map within a token budget.

Tokens are counted by the ``count_tokens`` callable the caller passes (e.g. the local model's
tokenizer, ``codeassist.runtime.gguf.Tokenizer.count``); by default they are *estimated* as one
token per four characters, rounded up (``estimate_tokens``), the usual ratio for code in BPE
vocabularies. The map holds the largest prefix of the ranking whose rendering fits the budget
(binary search, so ``count_tokens`` runs about log2(n) times).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from codeassist.index.models import RepoMap

__all__ = ["TokenCounter", "estimate_tokens", "fit"]

TokenCounter = Callable[[str], int]
# (name, kind, path, line, col, end_line, end_col, signature, scope)
DefRow = tuple[Any, ...]


def estimate_tokens(text: str) -> int:
    """About four characters per token."""
    return (len(text) + 3) // 4


def _render(rows: Sequence[DefRow]) -> tuple[str, list[str]]:
    by_file: dict[str, list[DefRow]] = {}
    for row in rows:
        by_file.setdefault(row[2], []).append(row)
    parts: list[str] = []
    for path, defs in by_file.items():
        parts.append(f"{path}:")
        for row in sorted(defs, key=lambda r: (r[3], r[4])):
            depth = row[8].count(".") + 1 if row[8] else 0
            parts.append(f"{'  ' * (depth + 1)}{row[7]}")
    return ("\n".join(parts) + "\n" if parts else ""), list(by_file)


def fit(rows: Sequence[DefRow], tokens: int, count_tokens: TokenCounter) -> RepoMap:
    """The map of the longest prefix of ``rows`` (best first) that fits in ``tokens``."""
    low, high = 0, len(rows)
    best = RepoMap("", [], 0)
    while low <= high:
        middle = (low + high) // 2
        text, files = _render(rows[:middle])
        used = count_tokens(text) if text else 0
        if used <= tokens:
            best = RepoMap(text, files, used)
            low = middle + 1
        else:
            high = middle - 1
    return best
