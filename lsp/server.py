"""The LSP boundary: pygls handlers. Each one reads the document, calls the backend, converts.

Features: ``textDocument/inlineCompletion`` (debounced per document, superseded requests
cancelled, stale versions dropped), incremental sync feeding the index and the engine,
``textDocument/documentSymbol`` and ``workspace/symbol`` from the index, the code action
"Generate code here (local)" (resolved lazily), settings from ``initializationOptions`` and
``workspace/didChangeConfiguration``, the ``codeassist/status`` notification and rate-limited
``window/showMessage``. Logging goes to stderr or a file, never to stdout (stdout is the wire).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.workspace import TextDocument

from codeassist import __version__, paths
from codeassist.errors import CodeassistError
from codeassist_lsp import actions
from codeassist_lsp import convert as cv
from codeassist_lsp.protocol import CodeassistProtocol
from codeassist_lsp.rate_limit import MessageGate
from codeassist_lsp.scheduler import Scheduler
from codeassist_lsp.settings import LspOptions, parse_options

if TYPE_CHECKING:  # the core loads after `initialize` has been answered
    from codeassist_lsp.backend import Backend, Status

__all__ = ["STATUS_METHOD", "CodeassistServer", "create_server"]

log = logging.getLogger(__name__)
STATUS_METHOD = "codeassist/status"
_INDEX_DELAY_S = 0.3
_LEVELS = {"error": types.MessageType.Error, "warning": types.MessageType.Warning,
           "info": types.MessageType.Info}


class CodeassistServer(LanguageServer):
    """pygls server holding the workspace's backend and per-document scheduling."""

    def __init__(self, *, probe_interval: float = 2.0) -> None:
        super().__init__("codeassist", __version__,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
                         protocol_cls=CodeassistProtocol)
        self.probe_interval = probe_interval
        self.root: Path | None = None
        self.options: LspOptions = parse_options(None, None)
        self.init_overrides: dict[str, Any] = {}  # from initializationOptions, under later changes
        self.backend: Backend | None = None
        self.scheduler = Scheduler(self.options.debounce_s)
        self.gate = MessageGate()
        self._index_pending: dict[str, asyncio.Task[None]] = {}
        self._closing: asyncio.Future[None] | None = None

    # ---- plumbing ---------------------------------------------------------------------------
    def make_backend(self) -> Backend:
        from codeassist_lsp.backend import Backend

        return Backend(self.options, self.root, self.send_status, self.show,
                       probe_interval=self.probe_interval)

    def send_status(self, status: Status) -> None:
        self.protocol.notify(STATUS_METHOD, status.as_json())

    def show(self, key: str, message: str, level: Literal["error", "warning", "info"]) -> None:
        if self.gate.allow(key):
            self.window_show_message(types.ShowMessageParams(type=_LEVELS[level], message=message))
        self.window_log_message(types.LogMessageParams(type=_LEVELS[level], message=message))

    def apply_options(self, options: LspOptions) -> None:
        """Use new settings. The backend (runtime, index, engine cache) is rebuilt only when settings
        other than ``[completion]`` changed; completion knobs apply to the running backend."""
        rebuild = self.backend is None or replace(
            options.core, completion=self.options.core.completion) != self.options.core
        self.options = options
        self.scheduler.debounce_s = options.debounce_s
        if options.problem:
            self.show("settings", options.problem, "warning")
        if rebuild:
            old, self.backend = self.backend, self.make_backend()
            if old is not None:
                self._closing = asyncio.ensure_future(old.close())
            self.send_status(self.backend.status)
        elif self.backend is not None:
            self.backend.update_options(options)

    def require_backend(self) -> Backend:
        if self.backend is None:
            self.backend = self.make_backend()
        return self.backend

    def rel(self, doc: TextDocument) -> str:
        return cv.rel_path(Path(str(doc.path)), self.root)

    def open_documents(self, exclude: str) -> dict[str, str]:
        return {self.rel(doc): doc.source for uri, doc in self.workspace.text_documents.items()
                if uri != exclude}

    def schedule_index(self, uri: str) -> None:
        """Feed the index the document's text, coalescing fast edits."""
        if uri not in self._index_pending:
            self._index_pending[uri] = asyncio.ensure_future(self._index_later(uri))

    async def _index_later(self, uri: str) -> None:
        try:
            await asyncio.sleep(_INDEX_DELAY_S)
        finally:
            self._index_pending.pop(uri, None)
        await self._index_now(uri)

    async def index_pending(self, uri: str) -> None:
        """Feed the index an edit still waiting in the coalescing delay, now (before a query)."""
        task = self._index_pending.pop(uri, None)
        if task is not None:
            task.cancel()
            await self._index_now(uri)

    async def _index_now(self, uri: str) -> None:
        doc = self.workspace.text_documents.get(uri)
        if doc is None:
            return
        try:
            await self.require_backend().update_file(self.rel(doc), doc.source)
        except CodeassistError as exc:
            log.warning("indexing %s failed: %s", uri, exc)


def _root_of(params: types.InitializeParams) -> Path | None:
    uri = params.root_uri or (params.workspace_folders[0].uri if params.workspace_folders else None)
    path = cv.uri_to_path(uri) if uri else (Path(params.root_path) if params.root_path else None)
    return paths.find_repo_root(path) if path is not None and path.exists() else None


# ---- lifecycle and settings ---------------------------------------------------------------
def initialize(ls: CodeassistServer, params: types.InitializeParams) -> None:
    ls.root = _root_of(params)
    ls.options = parse_options(params.initialization_options, ls.root)
    ls.init_overrides = dict(ls.options.overrides)
    ls.scheduler.debounce_s = ls.options.debounce_s


def initialized(ls: CodeassistServer, params: types.InitializedParams) -> None:
    backend = ls.require_backend()
    ls.send_status(backend.status)
    if ls.options.problem:
        ls.show("settings", ls.options.problem, "warning")


async def did_change_configuration(ls: CodeassistServer, params: types.DidChangeConfigurationParams) -> None:
    raw: Any = params.settings
    if not raw and _can_pull_configuration(ls):
        answer = await ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section="codeassist")]))
        raw = answer[0] if answer else None
    ls.apply_options(parse_options(raw, ls.root, base=ls.init_overrides))


def _can_pull_configuration(ls: CodeassistServer) -> bool:
    workspace = ls.client_capabilities.workspace
    return bool(workspace and workspace.configuration)


async def shutdown(ls: CodeassistServer, params: None) -> None:
    if ls.backend is not None:
        await ls.backend.close()


def execute_status(ls: CodeassistServer, *args: Any) -> dict[str, Any]:
    status: dict[str, Any] = ls.require_backend().status.as_json()
    return status


# ---- documents ----------------------------------------------------------------------------
def did_open(ls: CodeassistServer, params: types.DidOpenTextDocumentParams) -> None:
    backend = ls.require_backend()
    if ls.options.completions_enabled:
        backend.ensure_attached()
    ls.schedule_index(params.text_document.uri)


def did_change(ls: CodeassistServer, params: types.DidChangeTextDocumentParams) -> None:
    doc = ls.workspace.get_text_document(params.text_document.uri)
    backend = ls.require_backend()
    for change in params.content_changes:
        if isinstance(change, types.TextDocumentContentChangePartial):
            backend.note_edit(ls.rel(doc), change.range.start.line)
    ls.schedule_index(doc.uri)


def did_close(ls: CodeassistServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.scheduler.forget(params.text_document.uri)


# ---- inline completion --------------------------------------------------------------------
async def inline_completion(ls: CodeassistServer, params: types.InlineCompletionParams
                            ) -> types.InlineCompletionList | None:
    uri = params.text_document.uri
    if not ls.options.completions_enabled:
        return types.InlineCompletionList(items=[])

    from codeassist.completion import CompletionRequest

    doc = ls.workspace.get_text_document(uri)
    version = doc.version
    line, col = cv.to_core_position(doc, params.position)
    request = CompletionRequest(text=doc.source, line=line, col=col, path=ls.rel(doc),
                                language=cv.language_of(doc), open_documents=ls.open_documents(uri))
    hit = ls.require_backend().cached(request)
    if hit is not None:  # served from the cache: no debounce, no model request
        ls.scheduler.answered_now(uri)
        return cv.inline_list(doc, line, col, hit)

    async def job() -> types.InlineCompletionList | None:
        items = await ls.require_backend().complete(request)
        current = ls.workspace.get_text_document(uri)
        if current.version != version:
            log.debug("dropping completion for %s: version %s is now %s", uri, version, current.version)
            return types.InlineCompletionList(items=[])
        return cv.inline_list(current, line, col, items)

    result = await ls.scheduler.run(uri, job)
    return result if result is not None else types.InlineCompletionList(items=[])


# ---- symbols ------------------------------------------------------------------------------
async def document_symbol(ls: CodeassistServer, params: types.DocumentSymbolParams
                          ) -> list[types.DocumentSymbol]:
    doc = ls.workspace.get_text_document(params.text_document.uri)
    await ls.index_pending(doc.uri)  # the outline reflects the latest edits
    return cv.document_symbols(doc, await ls.require_backend().outline(ls.rel(doc)))


async def workspace_symbol(ls: CodeassistServer, params: types.WorkspaceSymbolParams
                           ) -> list[types.WorkspaceSymbol]:
    symbols = await ls.require_backend().symbols(params.query)
    docs: dict[Path, TextDocument] = {}

    def lines_of(path: Path) -> tuple[TextDocument, list[str]]:
        if path not in docs:
            docs[path] = ls.workspace.get_text_document(path.as_uri())
        doc = docs[path]
        try:
            return doc, list(doc.lines)
        except OSError:  # deleted since it was indexed
            return doc, []

    return cv.workspace_symbols(symbols, ls.root, lines_of)


# ---- code actions -------------------------------------------------------------------------
async def code_action(ls: CodeassistServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    doc = ls.workspace.get_text_document(params.text_document.uri)
    offered = actions.offer(doc, params.range)
    if offered and not _can_resolve_edits(ls):  # an old client: compute the edit now
        return [await code_action_resolve(ls, a) if a.data is not None else a for a in offered]
    return offered


def _can_resolve_edits(ls: CodeassistServer) -> bool:
    text = ls.client_capabilities.text_document
    support = text.code_action.resolve_support if text and text.code_action else None
    return bool(support and "edit" in support.properties)


async def code_action_resolve(ls: CodeassistServer, action: types.CodeAction) -> types.CodeAction:
    try:
        request = actions.ActionData.parse(action.data)
    except ValueError as exc:
        raise JsonRpcInvalidParams(str(exc)) from exc
    doc = ls.workspace.get_text_document(request.uri)
    where = cv.instruction_at(doc, request.range)
    if where is None:
        raise _failed("There is no comment or selection to generate code from any more.")
    try:
        snippet = await ls.require_backend().generate_snippet(
            where.text, actions.context_before(doc, where), cv.language_of(doc))
    except CodeassistError as exc:
        raise _failed(f"No code was generated: {exc}") from exc
    if snippet is None:
        raise _failed("The local model server is not available; try again when it is back "
                                   "(`codeassist doctor` checks it).")
    action.edit = cv.snippet_edit(doc, where, snippet)
    return action


async def execute_refactor(ls: CodeassistServer, *args: Any) -> dict[str, Any]:
    try:
        where = actions.ActionData.parse(args[0] if args else None, kind="refactor")
    except ValueError as exc:
        raise JsonRpcInvalidParams(str(exc)) from exc
    doc = ls.workspace.get_text_document(where.uri)
    instruction = cv.instruction_at(doc, where.range)
    if instruction is None:
        raise _failed("There is no comment or selection to take the refactor instruction from.")
    from codeassist_lsp.refactor import run_refactor  # the Claude SDK loads only when used

    return await run_refactor(ls, instruction.text)


def _failed(message: str) -> JsonRpcException:
    return JsonRpcException(message, code=types.LSPErrorCodes.RequestFailed.value)


def create_server(*, probe_interval: float = 2.0) -> CodeassistServer:
    """A server with every feature registered (a fresh one per connection)."""
    ls = CodeassistServer(probe_interval=probe_interval)
    ls.feature(types.INITIALIZE)(initialize)
    ls.feature(types.INITIALIZED)(initialized)
    ls.feature(types.SHUTDOWN)(shutdown)
    ls.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)(did_change_configuration)
    ls.feature(types.TEXT_DOCUMENT_DID_OPEN)(did_open)
    ls.feature(types.TEXT_DOCUMENT_DID_CHANGE)(did_change)
    ls.feature(types.TEXT_DOCUMENT_DID_CLOSE)(did_close)
    ls.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())(inline_completion)
    ls.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)(document_symbol)
    ls.feature(types.WORKSPACE_SYMBOL)(workspace_symbol)
    ls.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.RefactorRewrite], resolve_provider=True))(code_action)
    ls.feature(types.CODE_ACTION_RESOLVE)(code_action_resolve)
    ls.command(actions.STATUS_COMMAND)(execute_status)
    ls.command(actions.REFACTOR_COMMAND)(execute_refactor)
    return ls
