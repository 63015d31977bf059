"""The language server's view of the core: the runtime, completion engine and index of one workspace,
taken from the :class:`~codeassist.app.Application` (the composition root) and attached lazily.

Nothing here knows about pygls or LSP types; :mod:`codeassist_lsp.server` calls these methods
and converts the results. The model server is attached (or started) on first need, in the
background, so ``initialize`` never waits for it. While it is down every completion answers
empty at once, one message says so, and a probe brings the state back to ``ready`` by itself.

The index lives in one worker thread (SQLite connections stay in the thread that opened them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, TypeVar

from codeassist.app import Application
from codeassist.completion import CompletionEngine, CompletionRequest
from codeassist.errors import (
    CodeassistError,
    ModelError,
    ModelServerError,
    ServerBinaryError,
    ServerStartError,
    ServerUnavailableError,
)
from codeassist.index import RepoIndex, Symbol
from codeassist_lsp.settings import LspOptions

__all__ = ["Backend", "Status"]

log = logging.getLogger(__name__)
State = Literal["idle", "starting", "ready", "down", "disabled"]
T = TypeVar("T")
# the model server is not there (as opposed to slow, or answering with an error)
_DOWN = (ServerUnavailableError, ServerStartError, ServerBinaryError)


@dataclass(frozen=True)
class Status:
    """What the editor's status item shows (the ``codeassist/status`` notification)."""

    state: State = "idle"
    model: str = ""
    last_latency_ms: float | None = None
    tiny: bool = False
    detail: str = ""
    # a pool of model servers (several server.url): (url, "up" | "down" | "unknown", latency ms)
    endpoints: tuple[tuple[str, str, float | None], ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"state": self.state, "model": self.model, "lastLatencyMs": self.last_latency_ms,
                "tiny": self.tiny, "detail": self.detail,
                "endpoints": [{"url": u, "state": st, "latencyMs": ms} for u, st, ms in self.endpoints]}


Notify = Callable[[Status], None]
Problem = Callable[[str, str, Literal["error", "warning", "info"]], None]


class Backend:
    """The runtime, the engine and the index of one workspace (built by the application), with
    the model server's state (ready, down, probing)."""

    def __init__(self, options: LspOptions, root: Path | None, on_status: Notify, on_problem: Problem,
                 *, probe_interval: float = 2.0, attach_wait: float = 3.0) -> None:
        self.options = options
        self.root = root
        self._on_status = on_status
        self._on_problem = on_problem
        self._probe_interval = probe_interval
        self._attach_wait = attach_wait
        self._status = Status(state="idle" if options.completions_enabled else "disabled")
        self.app = Application(options.core, root, on_problem=self._index_problem)
        self._ready = False  # attached to a model server that answered
        self._down = False  # the model server was found missing; a probe is waiting for it
        self._engine: CompletionEngine | None = None
        self._attach: asyncio.Task[None] | None = None
        self._probe: asyncio.Task[None] | None = None
        self._index: RepoIndex | None = None
        self._index_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="codeassist-index")
        self._index_open: asyncio.Future[RepoIndex | None] | None = None

    # ---- status ---------------------------------------------------------------------------
    @property
    def status(self) -> Status:
        return self._status

    def _set_status(self, **changes: Any) -> None:
        new = replace(self._status, **changes)
        if new != self._status:
            self._status = new
            self._on_status(new)

    # ---- model server ---------------------------------------------------------------------
    def ensure_attached(self) -> asyncio.Task[None]:
        """Attach to (or start) the model server in the background; returns the attach task."""
        if self._attach is None or (self._attach.done() and self._down
                                    and self._probe is None):
            self._attach = asyncio.ensure_future(self._do_attach())
        return self._attach

    async def _do_attach(self) -> None:
        if self.options.completions_enabled:
            self._set_status(state="starting", detail="")
        try:
            client = await self.app.runtime.client()
            props = await client.props()
        except (ModelServerError, ModelError) as exc:
            self._server_down(exc)
            return
        model = _model_name(props)
        notice = self.app.notice(model)
        tiny = notice is not None
        if self._engine is None:  # the index joins when it is open; completions do not wait for it
            self._engine = self.app.completion_engine(_IndexWhenOpen(self))
            if self.root is not None and self._index_open is None:
                self._index_open = asyncio.ensure_future(self._in_index_thread(self._open_index))
        try:  # the model's capabilities and tokenizer now, not in the first completion's time
            await self._engine.warm()
        except (ModelServerError, ModelError) as exc:
            self._server_down(exc)
            return
        self._ready, self._down = True, False
        self._set_status(state="ready" if self.options.completions_enabled else "disabled", model=model,
                         tiny=tiny, detail="", endpoints=self._endpoints())
        if notice is not None:
            self._on_problem("tiny", notice, "warning")

    def _server_down(self, exc: CodeassistError) -> None:
        log.warning("model server unavailable: %s", exc.message)
        was_down = self._down
        self._ready, self._down = False, True
        self._set_status(state="down", detail=exc.message)
        if not was_down:
            hint = f" {exc.hint}" if exc.hint else ""
            self._on_problem("down", f"codeassist: the local model server is not available: "
                             f"{exc.message}{hint} Completions resume by themselves when it is back.",
                             "error")
        if self._probe is None or self._probe.done():
            self._probe = asyncio.ensure_future(self._probe_until_back())

    async def _probe_until_back(self) -> None:
        while True:
            await asyncio.sleep(self._probe_interval)
            try:
                client = await self.app.runtime.client()
                health = await client.health()
            except (ModelServerError, ModelError) as exc:
                log.debug("model server still down: %s", exc.message)
                continue
            if health == "ok":
                break
        self._probe = None
        self._attach = asyncio.ensure_future(self._do_attach())
        await self._attach
        if self._ready:
            self._on_problem("back", "codeassist: the local model server is back; completions resumed.",
                             "info")

    async def engine(self) -> CompletionEngine | None:
        """The engine for inline completions: None when they are turned off or the server is not ready."""
        if not self.options.completions_enabled:
            return None
        return await self._ready_engine()

    async def _ready_engine(self) -> CompletionEngine | None:
        """The engine if the model server is ready (waiting briefly for a fresh attach)."""
        if self._down:
            return None
        task = self.ensure_attached()
        if not task.done():
            await asyncio.wait([task], timeout=self._attach_wait)
        return self._engine if self._ready else None

    def cached(self, request: CompletionRequest) -> list[str] | None:
        """Suggestions straight from the engine's cache, or None (no engine yet, or a miss)."""
        if self._engine is None or not self._ready or not self.options.completions_enabled:
            return None
        result = self._engine.cached(request)
        if result is None:
            return None
        self._set_status(last_latency_ms=round(result.timings.total_ms, 1))
        return result.items

    async def complete(self, request: CompletionRequest) -> list[str]:
        """Suggestions for one position; empty while the model server is down."""
        engine = await self.engine()
        if engine is None:
            return []
        started = time.perf_counter()
        try:
            result = await engine.complete(request)
        except _DOWN as exc:
            self._server_down(exc)
            return []
        except CodeassistError as exc:  # slow, an HTTP error, a model file problem: say so, go on
            self._on_problem("completion", f"codeassist: no completion: {exc}", "warning")
            return []
        self._set_status(last_latency_ms=round((time.perf_counter() - started) * 1000, 1),
                         endpoints=self._endpoints())
        return result.items

    def _endpoints(self) -> tuple[tuple[str, str, float | None], ...]:
        runtime = self.app.built_runtime
        states = runtime.endpoints() if runtime is not None else []
        return tuple((s.url, s.state, s.latency_ms) for s in states)

    async def generate_snippet(self, instruction: str, context: str, language: str = "") -> str | None:
        """A snippet, or None while the model server is down. Other failures raise.

        Snippets are asked for explicitly, so they work with inline completions turned off."""
        engine = await self._ready_engine()
        if engine is None:
            return None
        try:
            return await engine.generate_snippet(instruction, context, language=language)
        except _DOWN as exc:
            self._server_down(exc)
            return None

    def update_options(self, options: LspOptions) -> None:
        """Settings that need no new runtime or index: completion knobs, on/off, debounce."""
        knobs = replace(options.core.completion, enabled=True, debounce_ms=0)
        engine_changed = knobs != replace(self.options.core.completion, enabled=True, debounce_ms=0)
        self.options = options
        self.app.settings = options.core
        if engine_changed and self._engine is not None:
            self._engine = self.app.completion_engine(_IndexWhenOpen(self))
        if not options.completions_enabled:
            self._set_status(state="disabled")
        elif self._status.state == "disabled":
            self._set_status(state="ready" if self._ready else "down" if self._down else "idle")

    def note_edit(self, path: str, line: int) -> None:
        if self._engine is not None:
            self._engine.note_edit(path, line)

    # ---- index (one worker thread) --------------------------------------------------------
    async def _in_index_thread(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._index_pool, fn)

    async def index(self) -> RepoIndex | None:
        """Open the repository index once (and scan it in the background)."""
        if self.root is None:
            return None
        if self._index_open is None:
            self._index_open = asyncio.ensure_future(self._in_index_thread(self._open_index))
        return await self._index_open

    def _open_index(self) -> RepoIndex | None:
        """Opened at once (symbols answer from what is there), brought up to date in the background."""
        self._index = self.app.open_index(update=False)
        if self._index is not None:
            index = self._index
            self._index_pool.submit(self.app.update_index, index)
        return self._index

    def _index_problem(self, key: str, message: str) -> None:
        self._on_problem(key, f"codeassist: {message}", "warning")

    async def update_file(self, path: str, text: str) -> None:
        index = await self.index()
        if index is not None:
            await self._in_index_thread(lambda: index.update_file(path, text))

    async def symbols(self, query: str, limit: int = 200) -> list[Symbol]:
        index = await self.index()
        if index is None:
            return []
        return await self._in_index_thread(lambda: index.symbols(query, limit))

    async def outline(self, path: str) -> list[Symbol]:
        index = await self.index()
        if index is None:
            return []
        return await self._in_index_thread(lambda: index.outline(path))

    async def close(self) -> None:
        for task in (self._probe, self._attach):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self._in_index_thread(self.app.close)  # the index, in the thread that uses it
        self._index_pool.shutdown(wait=False)
        await self.app.aclose()


class _IndexWhenOpen:
    """The index for the engine's context: no definitions until the index is open."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    @property
    def root(self) -> Path | None:
        return self._backend.root

    def definitions(self, name: str) -> list[Symbol]:
        index = self._backend._index
        return index.definitions(name) if index is not None else []

    def imports(self, path: str) -> list[str]:
        index = self._backend._index
        return index.imports(path) if index is not None else []


def _model_name(props: Mapping[str, Any] | Any) -> str:
    """A short model name from llama-server's ``/props`` answer."""
    data = props if isinstance(props, Mapping) else getattr(props, "__dict__", {})
    path = str(data.get("model_path") or data.get("model_alias") or data.get("model") or "")
    return Path(path).name if path else "unknown model"
