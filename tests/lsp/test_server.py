"""`codeassist lsp` end to end: a real client (neovim / VS Code capabilities) and a real llama-server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from tests.lsp.support import (
    PY,
    Gate,
    answered,
    change,
    inline_params,
    model_idle,
    open_doc,
    ready,
    send,
    start,
    statuses,
    typed_up_to,
    wait_for,
)
from tests.support.llama import LlamaServerInfo, free_port


def options(llama: LlamaServerInfo, **completion: object) -> dict[str, object]:
    # a generous timeout: CI machines are slow and shared
    return {"server": {"url": llama.url}, "completion": {"debounce_ms": 40, "timeout": 120, **completion}}


async def test_initialize_advertises_features_and_returns_without_a_model_server(
        client: LanguageClient, repo: Path) -> None:
    # nothing listens on this URL: initialize must not wait for it
    result = await start(client, repo, client.client_name, {"server": {"url": "http://127.0.0.1:9"}})  # type: ignore[attr-defined]
    caps = result.capabilities
    assert result.server_info is not None and result.server_info.name == "codeassist"
    assert caps.inline_completion_provider is not None
    assert caps.document_symbol_provider and caps.workspace_symbol_provider
    assert isinstance(caps.code_action_provider, types.CodeActionOptions)
    assert caps.code_action_provider.resolve_provider is True
    assert caps.text_document_sync.change == types.TextDocumentSyncKind.Incremental  # type: ignore[union-attr]
    expected = "utf-8" if client.client_name == "neovim" else "utf-16"  # type: ignore[attr-defined]
    assert caps.position_encoding == expected
    await wait_for(lambda: statuses(client))
    assert statuses(client)[0]["state"] == "idle"


async def test_inline_completion_in_several_languages_and_positions(
        client: LanguageClient, repo: Path, llama_server: LlamaServerInfo) -> None:
    await start(client, repo, client.client_name, options(llama_server))  # type: ignore[attr-defined]
    positions = [  # each line typed up to the cursor, as the user would have
        ("shapes.py", "python", 10, 15),  # `        return ` in area()
        ("greet.js", "javascript", 1, 9),  # `  return `
        ("fib.go", "go", 8, 12),  # `\treturn fib(`
    ]
    answered = []
    for name, language, line, character in positions:
        uri = open_doc(client, repo / name, language)
        typed_up_to(client, uri, 2, line, character)
        answer = await client.text_document_inline_completion_async(inline_params(uri, line, character))
        assert isinstance(answer, types.InlineCompletionList), answer
        for item in answer.items:
            assert isinstance(item.insert_text, str) and item.insert_text
            here = types.Position(line=line, character=character)
            assert item.range == types.Range(start=here, end=here)
        answered.append(bool(answer.items))
    assert any(answered), "the model gave no suggestion at any position"
    ready = [s for s in statuses(client) if s["state"] == "ready"]
    assert ready and ready[-1]["model"] and ready[-1]["tiny"] is True
    assert any(isinstance(s["lastLatencyMs"], float) for s in statuses(client))
    assert any("tiny demo model" in m.message for m in client.messages)


async def test_a_newer_request_supersedes_and_cancel_request_cancels(
        client: LanguageClient, repo: Path, llama_server: LlamaServerInfo) -> None:
    gate = Gate(free_port(), llama_server.port)
    await gate.start()
    try:
        settings = {**options(llama_server), "server": {"url": f"http://127.0.0.1:{gate.port}"}}
        await start(client, repo, client.client_name, settings)  # type: ignore[attr-defined]
        uri = open_doc(client, repo / "shapes.py", "python")
        typed_up_to(client, uri, 2, 10, 15)
        typed_up_to(client, uri, 3, 15, 11)
        await ready(client)
        gate.armed = True  # the first request is held at the model while the second one arrives
        first = send(client, inline_params(uri, 10, 15))
        await answered(gate.held.wait())
        second = send(client, inline_params(uri, 15, 11))
        superseded, newest = await answered(asyncio.gather(first, second))
        assert list(superseded.items) == []
        assert isinstance(newest, types.InlineCompletionList)
        # asked on its own, the first position does get a suggestion: it was empty for being superseded
        alone = await answered(client.text_document_inline_completion_async(inline_params(uri, 10, 15)))
        assert alone.items and alone.items[0].insert_text

        gate.held.clear()
        gate.closed.clear()
        gate.armed = True  # llama-server's answer to the next request is held back
        cancelled = send(client, inline_params(uri, 7, 8), msg_id="to-cancel")
        await answered(gate.held.wait())  # the request is with the model
        client.cancel_request(types.CancelParams(id="to-cancel"))
        with pytest.raises(JsonRpcException) as info:
            await answered(cancelled)
        assert info.value.code == types.LSPErrorCodes.RequestCancelled.value
        await answered(gate.closed.wait())  # the language server closed the HTTP request
        # llama-server saw its client go away: it stops generating and its slot goes idle
        await wait_for(lambda: model_idle(llama_server.url), timeout=30)
        # and the server keeps serving
        again = await answered(client.text_document_inline_completion_async(inline_params(uri, 4, 8)))
        assert isinstance(again, types.InlineCompletionList)
    finally:
        await gate.stop()


async def test_answers_for_a_stale_version_are_dropped(
        client: LanguageClient, repo: Path, llama_server: LlamaServerInfo) -> None:
    gate = Gate(free_port(), llama_server.port)
    await gate.start()
    try:
        settings = {**options(llama_server), "server": {"url": f"http://127.0.0.1:{gate.port}"}}
        await start(client, repo, client.client_name, settings)  # type: ignore[attr-defined]
        uri = open_doc(client, repo / "shapes.py", "python")
        typed_up_to(client, uri, 2, 15, 11)
        await ready(client)
        gate.armed = True
        pending = send(client, inline_params(uri, 15, 11))
        await answered(gate.held.wait())  # in flight: the model's answer is held back
        change(client, uri, 3, (15, 11), (15, 11), "x")
        # a round trip after the change: the server has handled it before the answer comes back
        await answered(client.workspace_symbol_async(types.WorkspaceSymbolParams(query="Shape")))
        gate.release()
        answer = await answered(pending)
        assert list(answer.items) == []
        assert gate.delivered.is_set()  # the model did answer: the server dropped it as stale
        # back at the version it was asked for, the same answer is served (from the engine's cache):
        # what was dropped was a real suggestion, withheld only because the document had moved on
        change(client, uri, 4, (15, 11), (15, 12), "")
        again = await answered(client.text_document_inline_completion_async(inline_params(uri, 15, 11)))
        assert again.items and again.items[0].insert_text
    finally:
        await gate.stop()


async def test_generate_code_action_returns_an_edit(
        client: LanguageClient, repo: Path, llama_server: LlamaServerInfo) -> None:
    await start(client, repo, client.client_name, options(llama_server, n_predict=16))  # type: ignore[attr-defined]
    uri = open_doc(client, repo / "shapes.py", "python")
    await ready(client)
    comment = types.Position(line=14, character=10)
    params = types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=types.Range(start=comment, end=comment),
        context=types.CodeActionContext(diagnostics=[]))
    actions = await client.text_document_code_action_async(params)
    titles = [a.title for a in actions or []]
    assert titles == ["Generate code here (local)", "Refactor with Claude…"]
    action = (actions or [])[0]
    assert isinstance(action, types.CodeAction)
    if action.edit is None:  # resolved lazily by clients that support it
        action = await client.code_action_resolve_async(action)
    assert action.edit is not None and action.edit.changes is not None
    (edit,) = action.edit.changes[uri]
    assert edit.range.start == types.Position(line=15, character=0)
    assert edit.new_text.strip() and edit.new_text.startswith("    ")

    code_line = types.Position(line=10, character=4)
    params.range = types.Range(start=code_line, end=code_line)
    assert not await client.text_document_code_action_async(params)


async def test_symbols_come_from_the_index(client: LanguageClient, repo: Path) -> None:
    await start(client, repo, client.client_name, {"server": {"url": "http://127.0.0.1:9"}})  # type: ignore[attr-defined]
    uri = open_doc(client, repo / "shapes.py", "python")
    outline = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    assert outline is not None
    by_name = {s.name: s for s in outline if isinstance(s, types.DocumentSymbol)}
    assert {"Circle", "total_area"} <= set(by_name)
    assert by_name["Circle"].kind == types.SymbolKind.Class
    assert {"__init__", "area"} <= {c.name for c in by_name["Circle"].children or []}

    found: list[types.WorkspaceSymbol | types.SymbolInformation] = []

    async def search() -> bool:
        answer = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="unused_helper"))
        found[:] = list(answer or [])
        return bool(found)

    await wait_for(search, timeout=30, interval=0.3)  # the background scan indexes unopened files
    symbol = found[0]
    assert symbol.name == "unused_helper_for_search"
    assert isinstance(symbol.location, types.Location)
    assert symbol.location.uri == (repo / "pkg" / "utils.py").as_uri()
    assert symbol.location.range.start == types.Position(line=4, character=4)  # the name


async def test_edits_reach_the_index_before_the_file_is_saved(client: LanguageClient, repo: Path) -> None:
    await start(client, repo, client.client_name, {"server": {"url": "http://127.0.0.1:9"}})  # type: ignore[attr-defined]
    uri = open_doc(client, repo / "shapes.py", "python")
    end = types.Position(line=16, character=0)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=end, end=end),
            text="\n\ndef freshly_typed_function(x):\n    return x\n")]))
    # asked at once: the outline must not lag behind the edit (no waiting for the coalescing delay)
    outline = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    names = [s.name for s in outline or []]
    assert "freshly_typed_function" in names and "total_area" in names
    found = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="freshly_typed"))
    assert [s.name for s in found or []] == ["freshly_typed_function"]
    assert (repo / "shapes.py").read_text(encoding="utf-8") == PY  # nothing written to disk
