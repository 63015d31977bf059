"""The retry policy of Claude calls: exponential backoff, ``retry-after`` honoured, a clear end.

``client.py`` classifies the SDK's errors; anything worth another attempt (429, 529, 5xx,
timeouts, connection errors, an ``overloaded_error`` inside a stream) arrives here as
:class:`Retryable`. The SDK's own retry loop is switched off, so this is the one policy.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx
import httpx2

from codeassist.errors import CloudUnavailableError

log = logging.getLogger(__name__)

__all__ = ["RETRY_STATUS", "RETRY_STREAM_ERRORS", "TRANSPORT_ERRORS", "RetryPolicy", "Retryable"]

T = TypeVar("T")
MAX_DELAY = 30.0
MAX_RETRY_AFTER = 60.0
RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 529})  # HTTP answers worth another try
RETRY_STREAM_ERRORS = frozenset({"overloaded_error", "api_error", "rate_limit_error", "timeout_error"})


# Errors of the SDK's HTTP layer that escape while a stream is read: the SDK sends with httpx2 (its
# fork of httpx); httpx's own are kept for SDK releases from before the fork.
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (httpx.TransportError, httpx2.TransportError)


class Retryable(Exception):
    """One failed attempt that may be retried."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    retries: int  # attempts after the first (claude.max_retries)
    backoff: float  # seconds before the first retry, doubling (claude.retry_backoff)

    def run(self, attempt: Callable[[], T], emitted: Callable[[], bool] = lambda: False) -> T:
        """``attempt()`` until it succeeds; :class:`CloudUnavailableError` once retries are spent,
        or at once when ``emitted()`` says part of the answer was already shown."""
        retries = max(0, self.retries)
        for number in range(retries + 1):
            try:
                return attempt()
            except Retryable as exc:
                if emitted():  # text already shown: a retry would repeat it
                    raise CloudUnavailableError(
                        f"Claude's answer broke off ({exc.reason}); the partial answer was discarded.",
                        hint="Run the command again.",
                    ) from exc
                if number == retries:
                    raise CloudUnavailableError(
                        f"Claude is unavailable: {exc.reason}, still after {retries + 1} attempts.",
                        hint="Try again in a few minutes (https://status.anthropic.com), or raise "
                             "claude.max_retries.",
                    ) from exc
                delay = self.delay(number, exc.retry_after)
                log.warning("Claude call failed (%s); retry %d of %d in %.2f s.", exc.reason, number + 1,
                            retries, delay)
                time.sleep(delay)
        raise AssertionError("unreachable")

    def delay(self, number: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), MAX_RETRY_AFTER)
        base = min(self.backoff * 2.0**number, MAX_DELAY)
        return base * (1 - 0.25 * random.random())
