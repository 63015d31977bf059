"""The same client against the real llama-server's own /v1/messages (`--local`): protocol path only.

The tiny Gemma's answers are nonsense; these tests assert the protocol and the flow.
"""

from __future__ import annotations

from pathlib import Path

from codeassist.claude.client import ClaudeClient
from codeassist.claude.datatypes import Prompt
from codeassist.claude.ledger import Ledger
from codeassist.config import load_settings
from tests.support.llama import LlamaServerInfo


def test_local_run_streams_a_reply_offline_without_a_key(llama_server: LlamaServerInfo,
                                                          tmp_path: Path) -> None:
    # Offline and no ANTHROPIC_API_KEY: the local server is still allowed, nothing leaves the machine.
    settings = load_settings(tmp_path, overrides={"privacy.cloud": False}, env={})
    ledger = Ledger(tmp_path / "ledger.db")
    client = ClaudeClient(settings, ledger, base_url=llama_server.url, local=True, command="refactor")
    prompt = Prompt.single("Write one short sentence about rivers.", system="You are terse.")
    assert client.count_tokens(prompt) > 5
    deltas: list[str] = []
    reply = client.turn(prompt, on_text=deltas.append, max_tokens=12)
    client.close()
    assert reply.stop_reason in {"end_turn", "max_tokens"}
    assert reply.text == "".join(deltas)
    assert 0 < reply.usage.output_tokens <= 12 and reply.usage.input_tokens > 0
    assert reply.model == client.resolve_model() != ""
    assert reply.cost_usd == 0.0
    [row] = ledger.summary()
    assert (row.command, row.usage.calls, row.usage.cost_usd) == ("refactor", 1, 0.0)
