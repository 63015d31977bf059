"""The server never blocks or dies: model server down and back, bad settings, malformed requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from tests.lsp.support import (
    Forwarder,
    inline_params,
    open_doc,
    raw_request,
    ready,
    start,
    statuses,
    wait_for,
)
from tests.support.fronts import OpenAIFront
from tests.support.llama import LlamaServerInfo, free_port


async def test_model_server_down_then_back(client: LanguageClient, repo: Path,
                                           llama_server: LlamaServerInfo) -> None:
    port = free_port()
    await start(client, repo, client.client_name,  # type: ignore[attr-defined]
                {"server": {"url": f"http://127.0.0.1:{port}"}, "completion": {"debounce_ms": 0}})
    uri = open_doc(client, repo / "shapes.py", "python")
    for line in (10, 15, 7):  # every request is answered, empty, while the server is down
        answer = await client.text_document_inline_completion_async(inline_params(uri, line, 8))
        assert answer is not None and list(answer.items) == []
    await wait_for(lambda: any(s["state"] == "down" for s in statuses(client)))
    errors = [m for m in client.messages if m.type == types.MessageType.Error]
    assert len(errors) == 1 and "not available" in errors[0].message  # one message, not one per request

    forwarder = Forwarder(port, llama_server.port)  # the model server comes back on its address
    await forwarder.start()
    try:
        await wait_for(lambda: statuses(client)[-1]["state"] == "ready", timeout=60)
        # the "back" message follows the ready status notification; it may arrive just after it
        await wait_for(lambda: any("back" in m.message for m in client.messages
                                   if m.type == types.MessageType.Info))
        answer = await client.text_document_inline_completion_async(inline_params(uri, 15, 11))
        assert isinstance(answer, types.InlineCompletionList)
    finally:
        await forwarder.stop()


async def test_bad_settings_give_one_message_and_defaults(client: LanguageClient, repo: Path) -> None:
    await start(client, repo, client.client_name,  # type: ignore[attr-defined]
                {"completion": {"debounce_ms": "soon", "enabled": True}, "colour": "blue",
                 "server": {"url": "http://127.0.0.1:9"}})
    await wait_for(lambda: client.messages)
    (message,) = client.messages
    assert message.type == types.MessageType.Warning
    assert "completion.debounce_ms" in message.message and "colour" in message.message
    assert "Using the defaults" in message.message


async def test_settings_change_turns_completions_off_and_on(client: LanguageClient, repo: Path,
                                                             llama_server: LlamaServerInfo) -> None:
    await start(client, repo, client.client_name, {"server": {"url": llama_server.url}})  # type: ignore[attr-defined]
    uri = open_doc(client, repo / "shapes.py", "python")
    await ready(client)
    # later settings layer over initializationOptions: server.url stays
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"codeassist": {"completion": {"enabled": False}}}))
    await wait_for(lambda: statuses(client) and statuses(client)[-1]["state"] == "disabled")
    toggled_at = len(statuses(client)) - 1
    answer = await client.text_document_inline_completion_async(inline_params(uri, 15, 11))
    assert answer is not None and list(answer.items) == []
    # generating code on request still works with inline completions off
    comment = types.Position(line=14, character=10)
    (action, _) = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=types.Range(start=comment, end=comment),
        context=types.CodeActionContext(diagnostics=[]))) or [None, None]
    assert isinstance(action, types.CodeAction)
    if action.edit is None:
        action = await client.code_action_resolve_async(action)
    assert action.edit is not None and action.edit.changes

    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"codeassist": []}))  # what Neovim sends for an empty Lua table
    await client.text_document_inline_completion_async(inline_params(uri, 15, 11))
    await wait_for(lambda: statuses(client)[-1]["state"] == "ready", timeout=60)
    # turning completions off and on keeps the attached model server (and the index): no restart
    states = [s["state"] for s in statuses(client)[toggled_at:]]
    assert states[0] == "disabled" and "ready" in states
    assert not {"idle", "starting"} & set(states)
    assert all(m.type != types.MessageType.Error for m in client.messages)
    assert not any("ignoring bad settings" in m.message for m in client.messages)


MALFORMED: list[tuple[str, Any, int]] = [
    (types.TEXT_DOCUMENT_INLINE_COMPLETION, {"textDocument": {"uri": "file:///x.py"}}, -32602),
    (types.TEXT_DOCUMENT_INLINE_COMPLETION, {"textDocument": 5, "position": "here"}, -32602),
    ("codeassist/noSuchMethod", {}, -32601),
    (types.CODE_ACTION_RESOLVE, {"title": "Generate code here (local)", "data": {"kind": "bogus"}}, -32602),
]


async def test_malformed_requests_get_errors_and_the_server_stays_up(client: LanguageClient,
                                                                    repo: Path) -> None:
    await start(client, repo, client.client_name, {"server": {"url": "http://127.0.0.1:9"}})  # type: ignore[attr-defined]
    for msg_id, (method, params, code) in enumerate(MALFORMED, start=9001):
        with pytest.raises(JsonRpcException) as caught:
            await raw_request(client, msg_id, method, params)
        assert caught.value.code == code, (method, params)
        assert caught.value.message
    # still serving: a valid request far outside the document is clamped, not an error
    uri = open_doc(client, repo / "shapes.py", "python")
    answer = await client.text_document_inline_completion_async(inline_params(uri, 999, 999))
    assert answer is not None and list(answer.items) == []
    outline = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    assert outline


async def test_openai_only_server(client: LanguageClient, repo: Path, openai_front: OpenAIFront) -> None:
    """server.api = "openai": completions through /v1/completions, no native route asked for."""
    await start(client, repo, client.client_name,  # type: ignore[attr-defined]
                {"server": {"url": openai_front.url, "api": "openai"},
                 "completion": {"debounce_ms": 0, "n_predict": 8, "timeout": 120}})
    uri = open_doc(client, repo / "shapes.py", "python")
    await ready(client)
    answer = await client.text_document_inline_completion_async(inline_params(uri, 15, 11))
    assert isinstance(answer, types.InlineCompletionList)
    assert any(isinstance(s["lastLatencyMs"], float) for s in statuses(client))
    assert openai_front.native_paths() == []


async def test_status_shows_each_pooled_server(client: LanguageClient, repo: Path,
                                               llama_server: LlamaServerInfo) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    await start(client, repo, client.client_name,  # type: ignore[attr-defined]
                {"server": {"url": [llama_server.url, dead]},
                 "completion": {"debounce_ms": 0, "n_predict": 8, "timeout": 120}})
    uri = open_doc(client, repo / "shapes.py", "python")
    await ready(client)
    for line in (15, 10):
        await client.text_document_inline_completion_async(inline_params(uri, line, 8))
    def endpoints() -> dict[str, str]:  # nested objects arrive as namedtuples too
        return {e.url: e.state for e in statuses(client)[-1]["endpoints"]}

    await wait_for(lambda: endpoints() == {llama_server.url: "up", dead: "down"}, timeout=60)
