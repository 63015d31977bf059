"""Rate limiting for ``window/showMessage``: an editor must never be flooded with pop-ups.

Each message has a key ("down", "tiny", "settings", ...); a key is shown at most once per its
interval. "tiny" is shown once per session.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping

__all__ = ["MessageGate"]

DEFAULT_INTERVALS: Mapping[str, float] = {"tiny": math.inf, "down": 60.0, "back": 60.0}


class MessageGate:
    def __init__(self, intervals: Mapping[str, float] = DEFAULT_INTERVALS, default: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._intervals = dict(intervals)
        self._default = default
        self._clock = clock
        self._last: dict[str, float] = {}

    def allow(self, key: str) -> bool:
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self._intervals.get(key, self._default):
            return False
        self._last[key] = now
        return True
