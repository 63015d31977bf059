"""ClaudeClient against the loopback Messages API server, through the real anthropic SDK."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest

from codeassist.claude.client import ClaudeClient
from codeassist.claude.datatypes import TEXT_EDITOR_TOOL, Prompt, Reply
from codeassist.claude.ledger import Ledger
from codeassist.config import Settings, load_settings
from codeassist.errors import (
    CloudAuthError,
    CloudError,
    CloudResponseError,
    CloudUnavailableError,
    ConfigError,
    CostLimitError,
)
from tests.support.anthropic_stub import TEST_API_KEY, AnthropicStub, block, reply

MakeClient = Callable[..., ClaudeClient]


def test_streamed_text_turn_returns_the_whole_reply_and_books_it(
        anthropic_stub: AnthropicStub, make_client: MakeClient, ledger: Ledger) -> None:
    answer = "Rename `load` to `read_config` in three files; nothing else changes."
    anthropic_stub.script(reply.text(answer))
    deltas: list[str] = []
    result = make_client(command="refactor").turn(Prompt.single("plan it", system="You plan."),
                                                  on_text=deltas.append)
    assert result.text == answer
    assert "".join(deltas) == answer and len(deltas) > 1  # really streamed in pieces
    assert result.stop_reason == "end_turn"
    body = anthropic_stub.message_requests[0]
    assert body["stream"] is True
    assert body["model"] == "claude-sonnet-4-6"  # newest Sonnet of the listed models
    assert body["max_tokens"] == 16000
    rows = ledger.summary()
    assert [(r.command, r.usage.calls) for r in rows] == [("refactor", 1)]
    assert rows[0].usage.output_tokens == result.usage.output_tokens > 0
    assert rows[0].usage.cost_usd == pytest.approx(result.cost_usd) and result.cost_usd > 0


def test_configured_model_is_used_without_listing_models(
        anthropic_stub: AnthropicStub, make_client: MakeClient) -> None:
    anthropic_stub.script(reply.text("ok"))
    client = make_client(claude__model="claude-opus-4-7", max_cost=float("inf"))
    assert client.turn(Prompt.single("hi")).model == "claude-opus-4-7"
    assert [r.path for r in anthropic_stub.requests] == ["/v1/messages"]


def test_model_list_without_sonnet_is_a_clear_error(anthropic_stub: AnthropicStub,
                                                     make_client: MakeClient) -> None:
    anthropic_stub.models = [("claude-haiku-4-5", "2025-10-01T00:00:00Z")]
    with pytest.raises(CloudError, match="no Sonnet") as err:
        make_client().resolve_model()
    assert "claude.model" in str(err.value)


def test_429_then_success_honours_retry_after(anthropic_stub: AnthropicStub, make_client: MakeClient,
                                              caplog: pytest.LogCaptureFixture) -> None:
    anthropic_stub.script(reply.error(429, retry_after_ms=120), reply.text("fine now"))
    with caplog.at_level(logging.WARNING, logger="codeassist.claude.retry"):
        result = make_client(max_cost=float("inf")).turn(Prompt.single("hi"))
    assert result.text == "fine now"
    assert len(anthropic_stub.message_requests) == 2
    assert "HTTP 429 rate_limit_error" in caplog.text and "in 0.12 s" in caplog.text


def test_529_every_time_gives_up_with_a_clear_error(anthropic_stub: AnthropicStub, make_client: MakeClient,
                                                    ledger: Ledger) -> None:
    anthropic_stub.script(*[reply.error(529) for _ in range(5)])
    with pytest.raises(CloudUnavailableError) as err:
        make_client(claude__max_retries=3, max_cost=float("inf")).turn(Prompt.single("hi"))
    assert len(anthropic_stub.message_requests) == 4  # one attempt + three retries
    assert "529" in err.value.message and "4 attempts" in err.value.message
    assert err.value.hint and "max_retries" in err.value.hint
    assert ledger.summary() == []  # nothing was answered, nothing billed


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retried(anthropic_stub: AnthropicStub, make_client: MakeClient,
                                   status: int) -> None:
    anthropic_stub.script(reply.error(status), reply.text("recovered"))
    assert make_client(max_cost=float("inf")).turn(Prompt.single("hi")).text == "recovered"


def test_overloaded_event_inside_the_stream_is_retried(anthropic_stub: AnthropicStub,
                                                       make_client: MakeClient) -> None:
    anthropic_stub.script(reply.stream_error("overloaded_error"), reply.text("second try"))
    assert make_client(max_cost=float("inf")).turn(Prompt.single("hi")).text == "second try"
    assert len(anthropic_stub.message_requests) == 2


def test_stream_error_after_text_was_shown_is_not_retried(anthropic_stub: AnthropicStub,
                                                          make_client: MakeClient) -> None:
    anthropic_stub.script(reply.stream_error("overloaded_error", text="Half of"), reply.text("unused"))
    shown: list[str] = []
    with pytest.raises(CloudUnavailableError, match="broke off"):
        make_client(max_cost=float("inf")).turn(Prompt.single("hi"), on_text=shown.append)
    assert "".join(shown) == "Half of"
    assert anthropic_stub.pending == 1  # no second attempt


def test_connection_refused_is_retried_then_reported(make_client: MakeClient) -> None:
    from tests.support.llama import free_port

    client = make_client(claude__base_url=f"http://127.0.0.1:{free_port()}",
                         claude__model="claude-sonnet-4-6", claude__max_retries=1, max_cost=float("inf"))
    with pytest.raises(CloudUnavailableError, match=r"cannot connect to 127\.0\.0\.1"):
        client.turn(Prompt.single("hi"))


@pytest.mark.parametrize("clean_eof", [False, True], ids=["connection-reset", "body-ends-early"])
def test_truncated_stream_is_an_error_never_a_partial_reply(
        anthropic_stub: AnthropicStub, make_client: MakeClient, ledger: Ledger, clean_eof: bool) -> None:
    anthropic_stub.script(reply.truncated("The plan has three steps: first", clean_eof=clean_eof,
                                          tool_use=("str_replace_based_edit_tool", {"command": "view"})))
    with pytest.raises(CloudResponseError, match="nothing of it was used"):
        make_client(max_cost=float("inf")).turn(Prompt.single("hi"))
    rows = ledger.summary()
    assert len(rows) == 1 and rows[0].usage.input_tokens > 0  # the input was still billed, and booked


def test_bad_request_is_not_retried(anthropic_stub: AnthropicStub, make_client: MakeClient) -> None:
    anthropic_stub.script(reply.error(400, message="messages: roles must alternate"), reply.text("unused"))
    with pytest.raises(CloudError, match="roles must alternate"):
        make_client(max_cost=float("inf")).turn(Prompt.single("hi"))
    assert anthropic_stub.pending == 1


def test_refused_key_is_an_auth_error(anthropic_stub: AnthropicStub, make_client: MakeClient) -> None:
    with pytest.raises(CloudAuthError, match="refused the key") as err:
        make_client(api_key="wrong-key").resolve_model()
    assert "ANTHROPIC_API_KEY" in str(err.value)


def test_missing_key_names_the_variable_and_sends_nothing(anthropic_stub: AnthropicStub,
                                                          make_client: MakeClient) -> None:
    with pytest.raises(CloudAuthError) as err:
        make_client(api_key=None).turn(Prompt.single("hi"))
    assert "ANTHROPIC_API_KEY" in str(err.value)
    assert anthropic_stub.requests == []


def test_key_from_the_environment_is_sent_but_never_logged(
        anthropic_stub: AnthropicStub, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture, ledger: Ledger) -> None:
    secret_key = "sk-ant-api03-" + "k3y" * 20
    anthropic_stub.api_key = secret_key
    monkeypatch.setenv("ANTHROPIC_API_KEY", secret_key)
    anthropic_stub.script(reply.text("ok"))
    with caplog.at_level(logging.DEBUG):
        make_client(api_key=None).turn(Prompt.single("hi"))
    assert anthropic_stub.requests[-1].api_key == secret_key
    assert secret_key not in caplog.text
    assert secret_key.encode() not in ledger.path.read_bytes()


def test_count_tokens_estimate_and_max_cost_refusal(anthropic_stub: AnthropicStub,
                                                    make_client: MakeClient) -> None:
    big = "def f():\n    return 1\n" * 4000  # ~24k tokens for the stub
    client = make_client(max_cost=0.05)
    prompt = Prompt.single("refactor this", context=big)
    estimate = client.estimate(prompt, max_tokens=1000)
    counted = anthropic_stub.bodies("/v1/messages/count_tokens")[-1]
    assert counted["system"][-1]["text"] == big
    assert estimate.input_tokens > 20_000
    # Sonnet: cache write $3.75/M on input (upper bound), $15/M output
    assert estimate.usd_plan == pytest.approx(estimate.input_tokens * 3.75e-6 + 1000 * 15e-6)
    anthropic_stub.script(reply.text("unused"))
    with pytest.raises(CostLimitError, match=r"above the limit of \$0.05") as err:
        client.turn(prompt, max_tokens=1000)
    assert "--max-cost" in str(err.value)
    assert anthropic_stub.message_requests == []  # nothing was generated
    assert anthropic_stub.pending == 1


def test_budget_counts_what_was_already_spent(anthropic_stub: AnthropicStub, make_client: MakeClient) -> None:
    client = make_client(max_cost=0.02, claude__max_tokens=500)
    anthropic_stub.script(reply.text("x" * 4000), reply.text("unused"))
    first = client.turn(Prompt.single("hi"))  # ~1000 output tokens -> ~$0.015
    assert client.spent_usd == pytest.approx(first.cost_usd) and first.cost_usd > 0.01
    with pytest.raises(CostLimitError, match="already spent"):
        client.turn(Prompt.single("again"))
    # a new budget (the next refactor, the next chat answer) starts from zero; the total stays
    client.new_budget()
    anthropic_stub.script(reply.text("y" * 40))
    second = client.turn(Prompt.single("again"))
    assert client.spent_usd == pytest.approx(first.cost_usd + second.cost_usd)


def test_a_turn_without_preflight_checks_the_limit_locally(anthropic_stub: AnthropicStub,
                                                           make_client: MakeClient) -> None:
    client = make_client(max_cost=0.02, claude__max_tokens=500)
    anthropic_stub.script(reply.text("short"))
    client.turn(Prompt.single("hi"), preflight=False)
    assert anthropic_stub.bodies("/v1/messages/count_tokens") == []  # no extra round trip
    with pytest.raises(CostLimitError):  # the local bound still enforces the limit
        client.turn(Prompt.single("x" * 40_000), preflight=False)
    assert len(anthropic_stub.message_requests) == 1


def test_prompt_cache_breakpoints_and_logged_cache_stats(
        anthropic_stub: AnthropicStub, make_client: MakeClient, caplog: pytest.LogCaptureFixture) -> None:
    repo_map = "src/app.py:\n  def load(path)\n  class Config\n" * 300  # well above the 1024-token minimum
    client = make_client(max_cost=float("inf"))
    anthropic_stub.script(reply.text("one"), reply.text("two"))
    with caplog.at_level(logging.INFO, logger="codeassist.claude.client"):
        first = client.turn(Prompt.single("first question", system="You refactor.", context=repo_map))
        second = client.turn(Prompt.single("second question", system="You refactor.", context=repo_map))
    system = anthropic_stub.message_requests[0]["system"]
    assert system[0] == {"type": "text", "text": "You refactor."}
    assert system[1]["cache_control"] == {"type": "ephemeral"}
    assert first.usage.cache_write_tokens > 1000 and first.usage.cache_read_tokens == 0
    assert second.usage.cache_read_tokens == first.usage.cache_write_tokens
    assert f"cache read {second.usage.cache_read_tokens}" in caplog.text
    assert second.cost_usd < first.cost_usd  # reads cost a tenth of writes


def test_tool_use_turns_round_trip(anthropic_stub: AnthropicStub, make_client: MakeClient) -> None:
    edit = {"command": "str_replace", "path": "src/app.py", "old_str": "def load(", "new_str": "def read("}
    anthropic_stub.script(
        reply.message(block.text("Renaming."), block.tool_use("str_replace_based_edit_tool", edit)),
        reply.text("Done."),
    )
    client = make_client(max_cost=float("inf"))
    messages: list[dict[str, object]] = [{"role": "user", "content": "rename load to read"}]
    first = client.turn(Prompt(messages=messages, tools=[TEXT_EDITOR_TOOL]))
    assert first.stop_reason == "tool_use" and first.text == "Renaming."
    [use] = first.tool_uses
    assert (use.name, use.input) == ("str_replace_based_edit_tool", edit)
    messages += [first.as_message(),
                 {"role": "user", "content": [Reply.tool_result(use.id, "Replaced 1 occurrence.")]}]
    assert client.turn(Prompt(messages=messages, tools=[TEXT_EDITOR_TOOL])).text == "Done."
    body = anthropic_stub.message_requests[1]
    assert body["tools"] == [TEXT_EDITOR_TOOL]
    assert body["messages"][1]["content"][1] == {"type": "tool_use", "id": use.id,
                                                 "name": "str_replace_based_edit_tool", "input": edit}
    result_block = body["messages"][2]["content"][0]
    assert result_block["tool_use_id"] == use.id and result_block["cache_control"] == {"type": "ephemeral"}
    assert messages[2]["content"][0] == {"type": "tool_result", "tool_use_id": use.id,  # type: ignore[index]
                                         "content": "Replaced 1 occurrence."}  # caller's list untouched


async def test_astream_yields_deltas_then_the_reply(anthropic_stub: AnthropicStub,
                                                    make_client: MakeClient) -> None:
    anthropic_stub.script(reply.text("An answer in several streamed pieces."))
    items = [item async for item in make_client(max_cost=float("inf")).astream(Prompt.single("hi"))]
    *deltas, final = items
    assert isinstance(final, Reply) and all(isinstance(d, str) for d in deltas)
    assert "".join(deltas) == final.text == "An answer in several streamed pieces."


async def test_closing_astream_early_stops_the_answer(anthropic_stub: AnthropicStub, make_client: MakeClient,
                                                      ledger: Ledger) -> None:
    anthropic_stub.script(reply.text("word " * 200, delay=0.01))  # ~90 events, ~1 s in all
    stream = make_client(max_cost=float("inf")).astream(Prompt.single("hi"))
    first = await stream.__anext__()
    assert isinstance(first, str)
    await stream.aclose()
    for _ in range(100):  # the worker notices at the next delta and closes the connection
        if ledger.summary():
            break
        await asyncio.sleep(0.02)
    [row] = ledger.summary()
    assert row.usage.calls == 1 and row.usage.input_tokens > 0
    with sqlite3.connect(ledger.path) as conn:
        assert conn.execute("SELECT status FROM calls").fetchall() == [("cancelled",)]


def test_a_prefix_below_the_cache_minimum_is_reported(anthropic_stub: AnthropicStub, make_client: MakeClient,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    anthropic_stub.script(reply.text("one"), reply.text("two"))
    client = make_client(max_cost=float("inf"))
    with caplog.at_level(logging.INFO, logger="codeassist.claude.client"):
        for _ in range(2):
            result = client.turn(Prompt.single("q", system="short system text", context="tiny map"))
            assert result.usage.cache_read_tokens == result.usage.cache_write_tokens == 0
    assert caplog.text.count("was not cached") == 2


def test_local_mode_never_falls_back_to_the_cloud_endpoint(stub_settings: Callable[..., Settings],
                                                           ledger: Ledger) -> None:
    with pytest.raises(ConfigError, match="llama-server URL"):
        ClaudeClient(stub_settings(), ledger, local=True)
    client = ClaudeClient(stub_settings(server__url="http://127.0.0.1:8012"), ledger, local=True)
    assert client.base_url == "http://127.0.0.1:8012"


def test_local_mode_sends_a_placeholder_key_not_the_real_one(
        anthropic_stub: AnthropicStub, stub_settings: Callable[..., Settings], ledger: Ledger,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-real-key-that-stays-home-000000")
    anthropic_stub.api_key = None  # the local server accepts any key
    anthropic_stub.script(reply.text("local answer"))
    client = ClaudeClient(stub_settings(**{"privacy.cloud": False}), ledger, base_url=anthropic_stub.url,
                          local=True)
    result = client.turn(Prompt.single("hi"))
    client.close()
    assert result.text == "local answer" and result.cost_usd == 0.0
    assert result.model == "claude-opus-4-7"  # local: the first model the server lists
    assert {r.api_key for r in anthropic_stub.requests} == {"local-no-key"}
    assert [r.path for r in anthropic_stub.requests] == ["/v1/models", "/v1/messages"]  # no cost pre-flight


def test_endpoint_from_anthropic_base_url(anthropic_stub: AnthropicStub, ledger: Ledger,
                                          tmp_path: Path) -> None:
    settings = load_settings(tmp_path, env={"ANTHROPIC_BASE_URL": anthropic_stub.url})
    assert settings.sources["claude.base_url"] == "env ANTHROPIC_BASE_URL"
    client = ClaudeClient(settings, ledger, api_key=TEST_API_KEY)
    anthropic_stub.script(reply.text("via the environment"))
    assert client.ask("hi") == "via the environment"
    client.close()


def test_a_stalled_stream_times_out_and_is_retried(anthropic_stub: AnthropicStub, make_client: MakeClient,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    anthropic_stub.script(reply.text("too slow", delay=1.0), reply.text("on time"))
    client = make_client(claude__timeout=0.3, max_cost=float("inf"))
    with caplog.at_level(logging.WARNING, logger="codeassist.claude.retry"):
        assert client.turn(Prompt.single("hi")).text == "on time"
    assert "read timeout" in caplog.text
    assert len(anthropic_stub.message_requests) == 2


def test_the_http_client_can_be_injected_and_stays_open(
        anthropic_stub: AnthropicStub, stub_settings: Any, ledger: Ledger) -> None:
    sent: list[str] = []
    with httpx2.Client(event_hooks={"request": [lambda request: sent.append(request.url.path)]}) as http:
        client = ClaudeClient(stub_settings(), ledger, api_key=TEST_API_KEY, command="test", http=http)
        anthropic_stub.script(reply.text("through the caller's client"))
        result = client.turn(Prompt.single("hi"))
        client.close()
        assert result.text == "through the caller's client"
        assert "/v1/messages" in sent  # the request went through the injected client
        assert not http.is_closed  # closing the Claude client leaves the caller's client open
