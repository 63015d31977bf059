"""LRU cache of suggestions with type-through reuse.

An entry is keyed by the document around the cursor: the path, the window lines above the cursor
line, the cursor line up to the cursor, and everything after the cursor. When the user types the
first characters of a suggestion that was shown, the new position's line prefix is an old one
plus those characters: the cache finds the old entry and serves the rest of the suggestion.

"No suggestion" is remembered too, for the exact position only: completions are sampled greedily,
so asking the model again with the same text around the cursor would give the same nothing (editors
re-ask at an unchanged position often: on focus, after a dismissed suggestion).
"""

from __future__ import annotations

from collections import OrderedDict

_Key = tuple[str, str, str, str]


class CompletionCache:
    def __init__(self, size: int = 250, max_type_through: int = 64) -> None:
        self._size = max(0, size)
        self._max_type_through = max_type_through
        self._entries: OrderedDict[_Key, tuple[str, ...]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def put(self, path: str, above: str, line_prefix: str, suffix: str, items: list[str]) -> None:
        if self._size == 0:
            return
        key = (path, above, line_prefix, suffix)
        self._entries[key] = tuple(item for item in items if item)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def get(self, path: str, above: str, line_prefix: str, suffix: str) -> list[str] | None:
        """Suggestions for this position: exact, or the rest of one the user is typing through."""
        entries = self._entries
        exact = entries.get((path, above, line_prefix, suffix))
        if exact == ():  # the model had nothing to say here
            entries.move_to_end((path, above, line_prefix, suffix))
            return []
        lowest = max(0, len(line_prefix) - self._max_type_through)
        for cut in range(len(line_prefix), lowest - 1, -1):
            key = (path, above, line_prefix[:cut], suffix)
            items = entries.get(key)
            if items is None:
                continue
            typed = line_prefix[cut:]
            rest = [item[len(typed):] for item in items if item.startswith(typed) and len(item) > len(typed)]
            if rest:
                entries.move_to_end(key)
                return rest
        return None

    def clear(self) -> None:
        self._entries.clear()
