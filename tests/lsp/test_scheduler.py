"""Debounce and supersede logic of completion requests (real asyncio tasks, a clock of the test's own:
time moves only when the test says so, and no step waits for real time to pass)."""

from __future__ import annotations

import asyncio

import pytest

from codeassist_lsp.rate_limit import MessageGate
from codeassist_lsp.scheduler import Scheduler


class ManualClock:
    """``now`` moves only with :meth:`advance`; ``sleep`` returns once the clock has passed its end."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.now + seconds, done))
        await done

    @property
    def sleeping(self) -> int:
        return sum(not done.done() for _, done in self._sleepers)

    @property
    def sleeps(self) -> int:
        """How many sleeps have begun (finished, cancelled or not)."""
        return len(self._sleepers)

    def advance(self, seconds: float) -> None:
        self.now += seconds
        for deadline, done in self._sleepers:
            if deadline <= self.now and not done.done():
                done.set_result(None)


class Job:
    """A completion job that records its start and ends when the test releases it."""

    def __init__(self, value: str, started: list[str]) -> None:
        self.value = value
        self.started = started
        self.running = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self) -> str:
        self.started.append(self.value)
        self.running.set()
        await self.release.wait()
        return self.value


async def settled(condition: object) -> None:
    """Let the event loop run until ``condition()`` holds (no time passes on any clock)."""
    for _ in range(1000):
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0)
    raise AssertionError("the tasks never reached the expected state")


async def test_a_newer_request_supersedes_the_pending_one() -> None:
    clock, started = ManualClock(), []
    scheduler = Scheduler(debounce_s=0.05, clock=clock, sleep=clock.sleep)
    a, b = Job("a", started), Job("b", started)
    first = asyncio.ensure_future(scheduler.run("doc", a))
    await a.running.wait()  # the leading edge runs at once
    clock.advance(0.01)
    second = asyncio.ensure_future(scheduler.run("doc", b))
    assert await first is None
    await settled(lambda: clock.sleeping == 1)  # the second keystroke waits out the window
    clock.advance(0.05)
    await b.running.wait()
    b.release.set()
    assert await second == "b"
    assert started == ["a", "b"] and scheduler.superseded == 1


async def test_keystrokes_in_a_burst_wait_for_the_debounce_and_only_the_last_runs() -> None:
    clock, started = ManualClock(), []
    scheduler = Scheduler(debounce_s=0.1, clock=clock, sleep=clock.sleep)
    jobs = {value: Job(value, started) for value in "abcd"}
    tasks = []
    for number, value in enumerate("abcd"):
        tasks.append(asyncio.ensure_future(scheduler.run("doc", jobs[value])))
        if number == 0:
            await jobs["a"].running.wait()
        else:
            await settled(lambda n=number: clock.sleeps == n and clock.sleeping == 1)  # only the newest waits
        clock.advance(0.02)
    clock.advance(0.1)  # the end of the burst: its last request runs
    await jobs["d"].running.wait()
    jobs["d"].release.set()
    results = await asyncio.gather(*tasks)
    assert results == [None, None, None, "d"]
    assert started == ["a", "d"]  # the leading edge, then the end of the burst


async def test_other_documents_are_independent_and_outer_cancellation_propagates() -> None:
    clock, started = ManualClock(), []
    scheduler = Scheduler(debounce_s=0.0, clock=clock, sleep=clock.sleep)
    j1, j2 = Job("1", started), Job("2", started)
    one = asyncio.ensure_future(scheduler.run("one", j1))
    two = asyncio.ensure_future(scheduler.run("two", j2))
    await j1.running.wait()
    await j2.running.wait()
    one.cancel()  # the client's $/cancelRequest: the caller sees the cancellation
    with pytest.raises(asyncio.CancelledError):
        await one
    j2.release.set()
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
