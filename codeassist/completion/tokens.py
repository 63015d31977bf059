"""Token counts for sizing prompt windows, cheap enough to run on every keystroke.

Windows are measured line by line and every line's count is memoised, so typing on one line
costs one tokenizer call, not one per line of the window. With the model's own tokenizer
(``codeassist.runtime.gguf.Tokenizer``) the per-line counts are exact; without it a character
based estimate is used.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol


class TokenCounter(Protocol):
    def count(self, text: str) -> int: ...


class EstimatingCounter:
    """A fast estimate: about ``chars_per_token`` characters per token, indentation nearly free."""

    def __init__(self, chars_per_token: float = 3.2) -> None:
        self.chars_per_token = chars_per_token

    def count(self, text: str) -> int:
        body = len(text.lstrip(" \t"))
        indent = len(text) - body
        return int(body / self.chars_per_token) + (1 if indent else 0) + 1


class LineCounter:
    """Memoised per-line counts on top of any counter (bounded LRU)."""

    def __init__(self, base: TokenCounter, max_entries: int = 50_000) -> None:
        self._base = base
        self._memo: OrderedDict[str, int] = OrderedDict()
        self._max = max_entries

    def line(self, text: str) -> int:
        """Tokens of one line including its newline."""
        memo = self._memo
        hit = memo.get(text)
        if hit is not None:
            memo.move_to_end(text)
            return hit
        value = max(1, self._base.count(text + "\n"))
        memo[text] = value
        if len(memo) > self._max:
            memo.popitem(last=False)
        return value

    def count(self, text: str) -> int:
        return sum(self.line(part) for part in text.split("\n"))
