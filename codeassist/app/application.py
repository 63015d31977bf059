"""The composition root: one object, built from :class:`Settings`, that builds and owns the core's parts.

Every surface (the CLI commands, the Textual chat, the plain REPL, the language server) asks an
:class:`Application` for what it needs and wires nothing itself::

    app = Application(settings, root)
    index = app.open_index()                  # open or create, brought up to date; None if unusable
    engine = app.completion_engine(index)     # over app.runtime (the local llama-server)
    claude = app.claude(command="refactor")   # the Claude client with the ledger and privacy guard
    report = app.run_refactor(instruction, options, observer)
    session = app.chat_session()              # runtime, index, Claude (when set up), history
    await app.aclose(); app.close()

It imports no UI. Problems that a surface should show but that do not stop the work (an index that
is busy or broken) go to ``on_problem`` with one wording everywhere, and to the log.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from codeassist import config
from codeassist.claude.ledger import Ledger
from codeassist.config import Settings
from codeassist.errors import CodeassistError
from codeassist.privacy import PrivacyGuard
from codeassist.runtime import LocalRuntime

if TYPE_CHECKING:
    from codeassist.chat import ChatSession
    from codeassist.chat.history import History
    from codeassist.claude.client import ClaudeClient
    from codeassist.completion import CompletionEngine
    from codeassist.index import RepoIndex, ScanSummary
    from codeassist.index.models import Symbol
    from codeassist.refactor import RefactorObserver, RefactorOptions, RefactorReport

__all__ = ["Application", "IndexProgress", "Problem", "index_problem", "index_update_problem",
           "tiny_model_notice"]

log = logging.getLogger(__name__)

IndexProgress = Callable[[int, int], None]
# (key, message): "index" for the repository index; the surface decides how to show it
Problem = Callable[[str, str], None]
TINY_MARKERS = ("270m",)  # a served model whose name says it is the tiny demo model


def _log_problem(key: str, message: str) -> None:
    log.warning("%s", message)


class Application:
    """The object graph of one repository (or none: ``root=None`` for work outside one)."""

    def __init__(self, settings: Settings, root: Path | None = None, *,
                 runtime: LocalRuntime | None = None, ledger: Ledger | None = None,
                 on_problem: Problem | None = None) -> None:
        self.settings = settings
        given = settings.repo_root or root
        self.root: Path | None = given.resolve() if given is not None else None
        self._runtime = runtime
        self._ledger = ledger
        self._on_problem = on_problem or _log_problem
        self._lock = threading.Lock()
        self._index: RepoIndex | None = None
        self._clients: list[ClaudeClient] = []
        self._histories: list[History] = []

    # ---- local runtime -----------------------------------------------------------------
    @property
    def runtime(self) -> LocalRuntime:
        """The local llama-server runtime (attached or started on first use)."""
        if self._runtime is None:
            self._runtime = LocalRuntime(self.settings)
        return self._runtime

    @property
    def built_runtime(self) -> LocalRuntime | None:
        """The runtime if something has used it already (no runtime is built just to look)."""
        return self._runtime

    def notice(self, served_model: str | None = None) -> str | None:
        """The tiny-model sentence to show once (see :func:`tiny_model_notice`), else None."""
        return tiny_model_notice(self.settings, served_model)

    def completion_engine(self, index: RepoIndex | object | None = None) -> CompletionEngine:
        """The completion engine over the runtime; ``index`` gives definitions and imports (or None)."""
        from codeassist.completion import CompletionEngine

        return CompletionEngine(self.runtime, index, self.settings.completion,  # type: ignore[arg-type]
                                root=self.root)

    # ---- the repository index: one policy ------------------------------------------------
    def open_index(self, *, update: bool = True, progress: IndexProgress | None = None) -> RepoIndex | None:
        """The repository index: opened (or created) once, brought up to date incrementally when
        ``update``. ``None`` when there is no repository or its index cannot be used (busy, broken,
        unwritable): the problem is reported and the work goes on without it."""
        if self.root is None:
            return None
        try:
            index = self.require_index()
        except CodeassistError as exc:
            self._on_problem("index", index_problem(exc))
            return None
        if update:
            self.update_index(index, progress)
        return index

    def require_index(self) -> RepoIndex:
        """The repository index, opened (or created) once; its errors propagate (``codeassist index``
        and the commands whose whole job is the index fail with them)."""
        root = self._require_root()
        with self._lock:
            if self._index is None:
                from codeassist.index import RepoIndex

                self._index = RepoIndex.open(root, self.settings.index)
            return self._index

    def update_index(self, index: RepoIndex, progress: IndexProgress | None = None) -> ScanSummary | None:
        """Bring ``index`` up to date (only changed files are parsed); on failure it is used as it is."""
        try:
            summary = index.update(progress)
        except CodeassistError as exc:
            self._on_problem("index", index_update_problem(exc))
            return None
        log.info("index updated: %s", summary)
        return summary

    def symbols(self, query: str, limit: int = 50) -> list[Symbol]:
        index = self.open_index(update=False)
        return index.symbols(query, limit) if index is not None else []

    # ---- Claude, the ledger, the privacy guard -------------------------------------------
    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            self._ledger = Ledger()
        return self._ledger

    @property
    def privacy_guard(self) -> PrivacyGuard:
        """A privacy guard of these settings (offline refusal, secret files, redaction)."""
        return PrivacyGuard.from_settings(self.settings)

    def claude(self, *, command: str = "claude", local: bool = False, max_cost: float | None = None,
               show_request: Callable[[str], None] | None = None) -> ClaudeClient:
        """A Claude client booking into the ledger and the egress audit, with the privacy guard
        (``local``: the local server's ``/v1/messages``; ``show_request``: print the redacted
        request instead of sending it)."""
        from codeassist.claude.client import ClaudeClient

        base_url = self._local_messages_url() if local else None
        key = None if local else config.anthropic_api_key()
        client = ClaudeClient(self.settings, self.ledger, api_key=key, local=local, base_url=base_url,
                              command=command, max_cost=max_cost, guard=self.privacy_guard,
                              show_request=show_request)
        self._clients.append(client)
        return client

    def claude_if_ready(self, *, command: str = "chat") -> ClaudeClient | None:
        """The Claude client when cloud calls are allowed and an API key is there, else None."""
        if not self.settings.privacy.cloud or config.anthropic_api_key() is None:
            return None
        try:
            return self.claude(command=command)
        except CodeassistError as exc:
            log.warning("Claude is not available: %s", exc)
            return None

    def _local_messages_url(self) -> str:
        if self.settings.server.url:  # a server elsewhere: it must have the Messages API
            from codeassist.runtime.connect import check_messages_api

            return check_messages_api(self.settings)
        server = self.runtime.server
        assert server is not None  # no server.url: the runtime manages one
        log.info("starting the local llama-server for /v1/messages")
        return server.start().url

    # ---- refactors ------------------------------------------------------------------------
    def run_refactor(self, instruction: str, options: RefactorOptions, observer: RefactorObserver, *,
                     command: str = "refactor", index: RepoIndex | None = None,
                     claude: ClaudeClient | None = None, cancel: threading.Event | None = None,
                     show_request: Callable[[str], None] | None = None) -> RefactorReport:
        """Plan and land a refactor (blocking). The repository and ``options.base`` are checked
        before the index is brought up to date; ``claude`` defaults to a new client for it."""
        from codeassist.refactor.gitops import GitRepo
        from codeassist.refactor.runner import RefactorRunner

        root = self._require_root()
        GitRepo.open(root).resolve_commit(options.base)  # bad repository or base: say so before indexing
        own = claude is None
        client = claude or self.claude(command=command, local=options.local, max_cost=options.max_cost,
                                       show_request=show_request)
        try:
            if index is None:
                index = self.open_index()
            return RefactorRunner(root, self.settings, client, index).run(instruction, options, observer,
                                                                          cancel)
        finally:
            if own:
                self._close_client(client)

    def _require_root(self) -> Path:
        if self.root is None:
            from codeassist.errors import UsageError

            raise UsageError("This needs a repository.", hint="Run it inside a git repository (or pass -C).")
        return self.root

    # ---- chat ------------------------------------------------------------------------------
    def chat_session(self, *, update_index: bool = False, claude: bool | None = None) -> ChatSession:
        """A chat session for this repository: the runtime (server started lazily), the index if it
        can be opened (brought up to date when ``update_index``; the Textual chat does it in the
        background), Claude if it is allowed and set up (``claude``: True always, False never), the
        engine for snippets, the refactor runner and the history if it is on."""
        from codeassist.chat.history import History
        from codeassist.chat.session import ChatSession

        history = History.open() if self.settings.chat.history else None
        if history is not None:
            self._histories.append(history)
        index = self.open_index(update=update_index)
        if claude is None:
            client = self.claude_if_ready(command="chat")
        else:
            client = self.claude(command="chat") if claude else None

        def refactors(instruction: str, options: RefactorOptions, observer: RefactorObserver,
                      cancel: threading.Event | None) -> RefactorReport:
            return self.run_refactor(instruction, options, observer, index=index, claude=client,
                                     cancel=cancel)

        return ChatSession(self.settings, self.runtime, index, client, root=self.root, history=history,
                           engine=self.completion_engine(index), refactors=refactors)

    # ---- lifetime --------------------------------------------------------------------------
    async def aclose(self) -> None:
        """Close the runtime's HTTP client (on the event loop that used it)."""
        if self._runtime is not None:
            await self._runtime.aclose()

    def close(self) -> None:
        """Close the index, the Claude clients and the ledger (the runtime: :meth:`aclose`)."""
        for client in list(self._clients):
            self._close_client(client)
        with self._lock:
            index, self._index = self._index, None
        if index is not None:
            index.close()
        while self._histories:
            self._histories.pop().close()
        if self._ledger is not None:
            self._ledger.close()

    def _close_client(self, client: ClaudeClient) -> None:
        client.close()
        if client in self._clients:
            self._clients.remove(client)


def index_problem(exc: CodeassistError) -> str:
    """How every surface says that the index cannot be used."""
    return f"The repository index is not available (working without it): {exc}"


def index_update_problem(exc: CodeassistError) -> str:
    """How every surface says that bringing the index up to date failed."""
    return f"The repository index was not brought up to date (it is used as it is): {exc}"


def tiny_model_notice(settings: Settings, served_model: str | None = None) -> str | None:
    """The sentence to show once while the tiny demo model answers: the configured model (from the
    catalogue), or, attached to a server, the served model when its name says it is the tiny one."""
    from codeassist.runtime import catalogue

    notice = catalogue.offline_model_notice(settings)
    if notice is not None or not served_model:
        return notice
    if any(marker in served_model.lower() for marker in TINY_MARKERS):
        return (f"codeassist is using the tiny demo model ({served_model}): fine for trying things out, "
                "not for real work. `codeassist model list` shows better models.")
    return None
