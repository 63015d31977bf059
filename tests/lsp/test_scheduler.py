"""Debounce and supersede logic of completion requests (real asyncio tasks)."""

from __future__ import annotations

import asyncio

import pytest

from codeassist_lsp.rate_limit import MessageGate
from codeassist_lsp.scheduler import Scheduler


async def slow(value: str, started: list[str], seconds: float = 0.2) -> str:
    started.append(value)
    await asyncio.sleep(seconds)
    return value


async def test_a_newer_request_supersedes_the_pending_one() -> None:
    scheduler, started = Scheduler(debounce_s=0.05), []
    first = asyncio.ensure_future(scheduler.run("doc", lambda: slow("a", started)))
    await asyncio.sleep(0.01)
    second = asyncio.ensure_future(scheduler.run("doc", lambda: slow("b", started)))
    assert await first is None
    assert await second == "b"
    assert started == ["a", "b"] and scheduler.superseded == 1


async def test_keystrokes_in_a_burst_wait_for_the_debounce_and_only_the_last_runs() -> None:
    scheduler, started = Scheduler(debounce_s=0.1), []
    tasks = []
    for value in "abcd":
        tasks.append(asyncio.ensure_future(scheduler.run("doc", lambda v=value: slow(v, started, 0.05))))
        await asyncio.sleep(0.02)
    results = await asyncio.gather(*tasks)
    assert results == [None, None, None, "d"]
    assert started == ["a", "d"]  # the leading edge, then the end of the burst


async def test_other_documents_are_independent_and_outer_cancellation_propagates() -> None:
    scheduler, started = Scheduler(debounce_s=0.0), []
    one = asyncio.ensure_future(scheduler.run("one", lambda: slow("1", started)))
    two = asyncio.ensure_future(scheduler.run("two", lambda: slow("2", started)))
    await asyncio.sleep(0.01)
    one.cancel()  # the client's $/cancelRequest: the caller sees the cancellation
    with pytest.raises(asyncio.CancelledError):
        await one
    assert await two == "2"


def test_message_gate_rate_limits_per_key() -> None:
    now = [0.0]
    gate = MessageGate({"down": 60.0}, default=30.0, clock=lambda: now[0])
    assert gate.allow("down") and not gate.allow("down")
    assert gate.allow("other")
    now[0] = 59.0
    assert not gate.allow("down")
    now[0] = 61.0
    assert gate.allow("down")
