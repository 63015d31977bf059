"""Per-document debouncing and superseding of completion requests.

A request that arrives while the previous one for the same document is still pending cancels
that one (its answer becomes empty; cancelling its task closes the HTTP request, so llama-server
stops generating). Debounce has a leading edge: the first keystroke after a pause is served at
once; a keystroke that follows another one within the debounce window waits the window out, so
only the last request of a typing burst reaches the model.

Time comes from ``clock`` and waiting from ``sleep`` (``time.monotonic`` and ``asyncio.sleep`` by
default), so that tests drive a burst with a clock of their own instead of real sleeps.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

__all__ = ["Clock", "Scheduler", "Sleep"]

T = TypeVar("T")


Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class Scheduler:
    def __init__(self, debounce_s: float, *, clock: Clock = time.monotonic,
                 sleep: Sleep = asyncio.sleep) -> None:
        self.debounce_s = debounce_s
        self._clock = clock
        self._sleep = sleep
        self._pending: dict[str, asyncio.Task[object]] = {}
        self._last_seen: dict[str, float] = {}
        self.superseded = 0

    async def run(self, key: str, job: Callable[[], Awaitable[T]]) -> T | None:
        """Run ``job`` for ``key`` unless a newer request for ``key`` supersedes it (then None)."""
        now = self._clock()
        burst = now - self._last_seen.get(key, float("-inf")) < self.debounce_s
        self._last_seen[key] = now
        previous = self._pending.pop(key, None)
        if previous is not None and not previous.done():
            previous.cancel()
            self.superseded += 1
        task: asyncio.Task[object] = asyncio.ensure_future(self._delayed(job, burst))
        self._pending[key] = task
        try:
            result = await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if task.cancelled() and current is not None and not current.cancelling():
                return None  # superseded by a newer request for this document
            raise
        finally:
            if self._pending.get(key) is task:
                del self._pending[key]
        return result  # type: ignore[return-value]

    async def _delayed(self, job: Callable[[], Awaitable[T]], wait: bool) -> T:
        if wait and self.debounce_s > 0:
            await self._sleep(self.debounce_s)
        return await job()

    def answered_now(self, key: str) -> None:
        """A request for ``key`` was answered without waiting (a cache hit): it supersedes the
        pending one and counts as a keystroke for the debounce window."""
        self._last_seen[key] = self._clock()
        previous = self._pending.pop(key, None)
        if previous is not None and not previous.done():
            previous.cancel()
            self.superseded += 1

    def forget(self, key: str) -> None:
        task = self._pending.pop(key, None)
        if task is not None:
            task.cancel()
        self._last_seen.pop(key, None)
