"""A pool of model servers behind one :class:`~codeassist.runtime.backend.ModelBackend`.

``server.url`` may list several servers serving the same model. The pool

- checks their health in the background (every ``interval`` seconds; a check waits at most
  ``check_timeout``) and keeps each one's state and latency (:meth:`EndpointPool.status`);
- sends every completion of one document (:func:`~codeassist.runtime.backend.affinity`) to the
  same healthy server — rendezvous hashing over the healthy ones, so that server's prompt cache
  stays warm, a document moves only when its server goes down, and moves back when it recovers;
- sends chat to the least busy server (fewest requests in flight, then the lowest latency);
- fails over at once: a request that cannot reach its server (refused, reset, not ready, TLS)
  marks it down and goes to the next one; a request that already streamed text is not repeated.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from codeassist.errors import ServerUnavailableError
from codeassist.runtime.backend import ModelBackend, affinity_key
from codeassist.runtime.params import ChatParams, Completion, CompletionParams
from codeassist.runtime.transport import Endpoint, HealthState, TextStream

__all__ = ["EndpointPool", "EndpointState"]

log = logging.getLogger(__name__)

State = Literal["unknown", "up", "down"]
Resolver = Callable[[Endpoint], Awaitable[ModelBackend]]
T = TypeVar("T")


@dataclass(frozen=True)
class EndpointState:
    """One server of the pool as ``codeassist doctor`` and the language server show it."""

    url: str
    state: State
    latency_ms: float | None
    in_flight: int
    api: str
    error: str = ""


class _Member:
    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.backend: ModelBackend | None = None
        self.state: State = "unknown"
        self.latency_ms: float | None = None
        self.in_flight = 0
        self.error = ""
        self.lock = asyncio.Lock()

    @property
    def url(self) -> str:
        return self.endpoint.url

    def mark(self, state: State, error: str = "") -> None:
        if state != self.state and self.state != "unknown":
            log.warning("model server %s is %s%s", self.url, state, f" ({error})" if error else "")
        self.state, self.error = state, error


def _score(key: str, url: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"{key}\0{url}".encode(), digest_size=8).digest(), "big")


class EndpointPool:
    """Several servers as one backend. ``resolve`` builds (and, for ``api = auto``, probes) the
    backend of one endpoint; it is retried until it succeeds."""

    kind = "pool"

    def __init__(self, endpoints: Sequence[Endpoint], resolve: Resolver, *, interval: float = 1.0,
                 check_timeout: float = 2.0) -> None:
        if not endpoints:
            raise ValueError("an endpoint pool needs at least one endpoint")
        self._members = [_Member(e) for e in endpoints]
        self._resolve = resolve
        self.interval = interval
        self.check_timeout = check_timeout
        self._checker: asyncio.Task[None] | None = None

    @property
    def base_url(self) -> str:
        return ", ".join(m.url for m in self._members)

    @property
    def urls(self) -> list[str]:
        return [m.url for m in self._members]

    def status(self) -> list[EndpointState]:
        return [EndpointState(m.url, m.state, m.latency_ms, m.in_flight,
                              m.backend.kind if m.backend is not None else "?", m.error)
                for m in self._members]

    async def aclose(self) -> None:
        if self._checker is not None:
            self._checker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checker
            self._checker = None
        for member in self._members:
            if member.backend is not None:
                await member.backend.aclose()
                member.backend = None

    # --- health ------------------------------------------------------------------------------
    def _ensure_checker(self) -> None:
        if self._checker is None or self._checker.done():
            self._checker = asyncio.get_running_loop().create_task(self._check_forever())

    async def _check_forever(self) -> None:
        while True:
            await self.check()
            await asyncio.sleep(self.interval)

    async def check(self) -> list[EndpointState]:
        """Check every server now (also what the background loop does)."""
        await asyncio.gather(*(self._check(m) for m in self._members))
        return self.status()

    async def _check(self, member: _Member) -> None:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.check_timeout):
                backend = await self._backend(member)
                health = await backend.health()
        except TimeoutError:
            member.mark("down", f"no answer within {self.check_timeout:.0f} s")
            return
        except ServerUnavailableError as exc:
            member.mark("down", exc.message)
            return
        except Exception as exc:  # auth or protocol errors (raised to callers by requests): shown here
            member.mark("down", getattr(exc, "message", str(exc)))
            return
        member.latency_ms = round((time.perf_counter() - started) * 1000, 1)
        member.mark("up" if health == "ok" else "down", "" if health == "ok" else health)

    async def _backend(self, member: _Member) -> ModelBackend:
        if member.backend is None:
            async with member.lock:
                if member.backend is None:
                    member.backend = await self._resolve(member.endpoint)
        return member.backend

    # --- routing -----------------------------------------------------------------------------
    def _by_affinity(self, key: str) -> list[_Member]:
        ranked = sorted(self._members, key=lambda m: _score(key, m.url), reverse=True)
        return [m for m in ranked if m.state != "down"] + [m for m in ranked if m.state == "down"]

    def _least_busy(self) -> list[_Member]:
        def load(m: _Member) -> tuple[bool, int, float]:
            return (m.state == "down", m.in_flight, m.latency_ms if m.latency_ms is not None else 1e9)
        return sorted(self._members, key=load)

    def route(self, key: str) -> str:
        """The server a completion for ``key`` (a document) goes to now."""
        return self._by_affinity(key)[0].url

    async def _call(self, order: list[_Member], op: Callable[[ModelBackend], Awaitable[T]]) -> T:
        self._ensure_checker()
        last: ServerUnavailableError | None = None
        for member in order:
            try:
                backend = await self._backend(member)
                member.in_flight += 1
                try:
                    result = await op(backend)
                finally:
                    member.in_flight -= 1
            except ServerUnavailableError as exc:
                member.mark("down", exc.message)
                last = exc
                continue
            if member.state != "up":
                member.mark("up")
            return result
        raise last or ServerUnavailableError("No model server of the pool is reachable.")

    def _stream(self, order: list[_Member], make: Callable[[ModelBackend], TextStream]) -> TextStream:
        done: list[Completion] = []
        return TextStream(self._stream_pieces(order, make, done), done)

    async def _stream_pieces(self, order: list[_Member], make: Callable[[ModelBackend], TextStream],
                             done: list[Completion]) -> AsyncGenerator[str, None]:
        self._ensure_checker()
        last: ServerUnavailableError | None = None
        for member in order:
            started = False
            try:
                backend = await self._backend(member)
                member.in_flight += 1
                try:
                    async with make(backend) as stream:
                        async for piece in stream:
                            started = True
                            yield piece
                        if stream.result is not None:
                            done.append(stream.result)
                finally:
                    member.in_flight -= 1
            except ServerUnavailableError as exc:
                member.mark("down", exc.message)
                if started:
                    raise
                last = exc
                continue
            return
        raise last or ServerUnavailableError("No model server of the pool is reachable.")

    # --- the backend interface ---------------------------------------------------------------
    async def health(self) -> HealthState:
        states = await self.check()
        return "ok" if any(s.state == "up" for s in states) else "unreachable"

    async def props(self) -> dict[str, Any]:
        return await self._call(self._by_affinity(""), lambda b: b.props())

    async def count_tokens(self, text: str) -> int:
        return await self._call(self._by_affinity(affinity_key()), lambda b: b.count_tokens(text))

    async def complete(self, prompt: str, params: CompletionParams | None = None) -> Completion:
        return await self._call(self._by_affinity(affinity_key()), lambda b: b.complete(prompt, params))

    def stream_complete(self, prompt: str, params: CompletionParams | None = None) -> TextStream:
        return self._stream(self._by_affinity(affinity_key()), lambda b: b.stream_complete(prompt, params))

    async def infill(self, prefix: str, suffix: str, extra: Sequence[Mapping[str, str]] = (),
                     params: CompletionParams | None = None, *, prompt: str = "") -> Completion:
        return await self._call(self._by_affinity(affinity_key()),
                                lambda b: b.infill(prefix, suffix, extra, params, prompt=prompt))

    def stream_chat(self, messages: Sequence[Mapping[str, Any]], params: ChatParams | None = None
                    ) -> TextStream:
        return self._stream(self._least_busy(), lambda b: b.stream_chat(messages, params))

