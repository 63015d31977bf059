""""Refactor with Claude…" from the editor: code action → command → planner → a new branch.

Claude is the loopback Messages API server replaying scripted replies; git is real.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp.support import raw_request, start
from tests.refactor.conftest import MODEL, SERVICE, Checkout, git, make_repo, plan_reply
from tests.support.anthropic_stub import TEST_API_KEY, AnthropicStub, reply

INSTRUCTION = "Rename Store.fetch to Store.load in shop/store.py and every caller"


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The key the language server process reads from its environment."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", TEST_API_KEY)


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


def edits() -> list[Any]:
    return [
        reply.edits(
            ("str_replace", "shop/store.py", {"old_str": "    def fetch(self, key):",
                                              "new_str": "    def load(self, key):"}),
            ("str_replace", "shop/service.py", {"old_str": "    value = store.fetch(item)",
                                                "new_str": "    value = store.load(item)"}),
            ("str_replace", "tests/test_store.py", {"old_str": 'assert store.fetch("a") == 1',
                                                    "new_str": 'assert store.load("a") == 1'}),
        ),
        reply.text("Renamed `fetch` to `load` in the definition and both callers."),
    ]


@pytest.mark.parametrize("client", ["visual-studio-code"], indirect=True)
async def test_refactor_action_lands_on_a_branch_with_progress(
        client: LanguageClient, shop: Path, anthropic_stub: AnthropicStub) -> None:
    asked: list[types.ShowMessageRequestParams] = []

    @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def confirm(params: types.ShowMessageRequestParams) -> types.MessageActionItem:
        asked.append(params)
        return types.MessageActionItem(title="Apply on a new branch")

    anthropic_stub.script(plan_reply(), *edits())
    options = {**anthropic_stub.overrides(), "claude.model": MODEL, "claude.max_retries": 2,
               "server.url": "http://127.0.0.1:9"}
    await start(client, shop, client.client_name, options)  # type: ignore[attr-defined]
    before = Checkout.take(shop)
    text = f"# {INSTRUCTION}\n" + SERVICE  # the instruction is a comment in the editor only
    uri = (shop / "shop" / "service.py").as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="python", version=1, text=text)))
    cursor = {"line": 0, "character": 5}
    # as plain JSON: the test client's union parsing takes a CodeAction with a command for a Command
    actions = await raw_request(client, 7001, types.TEXT_DOCUMENT_CODE_ACTION, {
        "textDocument": {"uri": uri}, "range": {"start": cursor, "end": cursor},
        "context": {"diagnostics": []}})
    (refactor,) = [a for a in actions if "command" in a]
    assert refactor["title"] == "Refactor with Claude…" and refactor["kind"] == "refactor.rewrite"

    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=refactor["command"]["command"], arguments=refactor["command"]["arguments"]))

    assert result["status"] == "committed", result["reason"]
    branch = result["branch"]
    assert branch.startswith("codeassist/rename-store-fetch")
    assert result["summary"] == "Rename Store.fetch to Store.load everywhere."
    assert "3 files changed" in result["diffstat"]
    assert "def load(self, key):" in git(shop, "show", f"{branch}:shop/store.py")
    before.assert_same_checkout(shop)  # the user's tree, index and HEAD are untouched
    (question,) = asked
    assert "Rename Store.fetch to Store.load everywhere." in question.message
    # work-done progress: begin, reports from the planner's phases, end with the branch name
    (reports,) = client.progress_reports.values()
    assert isinstance(reports[0], types.WorkDoneProgressBegin) and reports[0].message == INSTRUCTION
    assert any(isinstance(r, types.WorkDoneProgressReport) for r in reports)
    assert isinstance(reports[-1], types.WorkDoneProgressEnd) and branch in (reports[-1].message or "")
    assert any(branch in m.message for m in client.messages if m.type == types.MessageType.Info)
    assert INSTRUCTION in anthropic_stub.received_text()


@pytest.mark.parametrize("client", ["neovim"], indirect=True)
async def test_declining_the_plan_changes_nothing(
        client: LanguageClient, shop: Path, anthropic_stub: AnthropicStub) -> None:
    @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def decline(params: types.ShowMessageRequestParams) -> types.MessageActionItem:
        return types.MessageActionItem(title="Cancel")

    anthropic_stub.script(plan_reply())
    options = {**anthropic_stub.overrides(), "claude.model": MODEL, "server.url": "http://127.0.0.1:9"}
    await start(client, shop, client.client_name, options)  # type: ignore[attr-defined]
    before = Checkout.take(shop)
    uri = (shop / "shop" / "service.py").as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="python", version=1, text=f"# {INSTRUCTION}\n" + SERVICE)))
    args = [{"kind": "refactor", "uri": uri, "range": [0, 3, 0, 3]}]
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="codeassist.refactor", arguments=args))
    assert result["status"] == "declined" and result["branch"] is None
    before.assert_untouched(shop)
    assert any("not applied" in m.message for m in client.messages)
