"""`--local`: the same planner against the real llama-server's /v1/messages (tiny Gemma).

The tiny base model answers nonsense, so this checks the protocol path and that the flow ends
cleanly — a report, or a codeassist error that says why — never a traceback, never a touched
checkout, never a half-made branch.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from codeassist.claude.client import ClaudeClient
from codeassist.claude.ledger import Ledger
from codeassist.config import load_settings
from codeassist.errors import RefactorError
from codeassist.index import RepoIndex
from codeassist.refactor import AcceptAll, RefactorOptions, RefactorRunner
from tests.refactor.conftest import Checkout, git
from tests.support.llama import LlamaServerInfo


@pytest.mark.slow
def test_local_refactor_ends_cleanly_against_llama_server(repo: Path, index: RepoIndex,
                                                          llama_server: LlamaServerInfo) -> None:
    before = Checkout.take(repo)
    settings = load_settings(repo, env={}, overrides={
        "server.url": llama_server.url, "claude.max_tokens": 24, "claude.max_retries": 0,
        "index.map_tokens": 128, "privacy.cloud": False,  # offline: --local must still work
    })
    ledger = Ledger(repo.parent / "ledger.db")
    client = ClaudeClient(settings, ledger, local=True, base_url=llama_server.url, command="refactor")
    options = RefactorOptions(yes=True, local=True, branch="refactor/local", max_tool_turns=2,
                              max_repair_rounds=1)
    try:
        report = RefactorRunner(repo, settings, client, index).run(
            "Rename Store.fetch to Store.load", options, AcceptAll())
    except RefactorError as exc:  # the round trip worked; the tiny model's answer is no plan
        assert exc.message.endswith(".") and "nothing was changed" in exc.message
        before.assert_untouched(repo)
    else:
        assert report.estimate is not None and report.estimate.local
        assert report.usage.calls >= 1 and report.usage.cost_usd == 0.0
        before.assert_same_checkout(repo)
        if report.status == "committed":
            assert git(repo, "rev-parse", "refactor/local").strip() == report.commits[0]
        else:
            assert report.reason
            before.assert_untouched(repo)
    finally:
        client.close()
    (row,) = ledger.summary()  # at least the plan turn went through /v1/messages and was booked
    assert row.command == "refactor" and row.usage.calls >= 1 and row.usage.input_tokens > 0
    assert row.usage.output_tokens > 0
    assert client.spent_usd == 0.0 and row.usage.cost_usd == 0.0
