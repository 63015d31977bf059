"""ChatSession against the real llama-server (tiny Gemma) and the loopback Anthropic server.

The tiny model's answers are nonsense: these tests assert the flow, not the words.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import aclosing
from pathlib import Path

import httpx
import pytest

from codeassist.chat.events import ChatEvent, Done, Notice, Routed, Token
from codeassist.chat.history import History
from codeassist.chat.session import ChatSession
from codeassist.runtime import LocalRuntime
from tests.chat.helpers import ENV_SECRET, SECRET_KEY, make_repo, make_session, settings_for, stub_overrides
from tests.support.anthropic_stub import AnthropicStub, reply
from tests.support.llama import LlamaServerInfo


async def collect(session: ChatSession, text: str, **kw: object) -> list[ChatEvent]:
    events: list[ChatEvent] = []
    async with aclosing(session.answer(text, **kw)) as stream:  # type: ignore[arg-type]
        async for event in stream:
            events.append(event)
    return events


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "shop")


async def test_local_answer_streams_and_says_who_answered(repo: Path, llama_server: LlamaServerInfo) -> None:
    session = make_session(repo, settings_for(repo, llama_server))
    events = await collect(session, "what does Store.fetch return?")
    await session.runtime.aclose()

    routed, done = events[0], events[-1]
    assert isinstance(routed, Routed) and routed.decision.route == "local"
    assert routed.line.startswith("gemma3-270m-tiny (local) — ")
    tokens = [e for e in events if isinstance(e, Token)]
    assert tokens, "no streamed token"
    assert isinstance(done, Done)
    assert done.text == "".join(t.text for t in tokens)
    assert done.stats.completion_tokens > 0 and done.stats.prompt_tokens > 0
    assert done.stats.first_token_s is not None and done.stats.first_token_s <= done.stats.total_s
    assert [t.role for t in session.turns] == ["user", "assistant"]


async def test_history_is_saved_and_resumed(repo: Path, llama_server: LlamaServerInfo) -> None:
    settings = settings_for(repo, llama_server)
    first = make_session(repo, settings)
    await collect(first, "hello there")
    await first.runtime.aclose()

    second = ChatSession(settings, LocalRuntime(settings), None, None, root=repo, history=History.open())
    stored = second.resume()
    assert [m.role for m in stored] == ["user", "assistant"]
    assert stored[0].content == "hello there" and stored[1].route == "local"
    assert second.turns[-1].content == first.turns[-1].content


async def test_closing_the_stream_stops_the_server(repo: Path, llama_server: LlamaServerInfo) -> None:
    session = make_session(repo, settings_for(repo, llama_server, **{"chat.max_tokens": 3000}))
    stream = session.answer("tell me a very long story about stores")
    async for event in stream:
        if isinstance(event, Token):
            break
    await stream.aclose()
    await session.runtime.aclose()
    assert session.turns[-1].content.endswith("*(cancelled)*")
    deadline = time.monotonic() + 10
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            slots = (await http.get(f"{llama_server.url}/slots")).json()
            if not any(slot.get("is_processing") for slot in slots):
                return
            await asyncio.sleep(0.05)
    pytest.fail("llama-server kept generating after the stream was closed")


async def test_context_commands(repo: Path, llama_server: LlamaServerInfo) -> None:
    session = make_session(repo, settings_for(repo, llama_server))
    assert session.context.add("shop/store.py") == "shop/store.py"
    assert "Store" in session.context.repo_map(256)
    assert [s.name for s in session.context.symbols("fetch")] == ["fetch"]
    events = await collect(session, "explain this file")
    done = events[-1]
    assert isinstance(done, Done) and done.stats.context_files == ("shop/store.py",)
    assert session.context.drop("shop/store.py") == ["shop/store.py"]
    await session.runtime.aclose()


async def test_claude_answers_big_work_and_costs_are_counted(
        repo: Path, llama_server: LlamaServerInfo, anthropic_stub: AnthropicStub,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key-for-the-loopback-server")
    settings = settings_for(repo, llama_server, **stub_overrides(anthropic_stub))
    session = make_session(repo, settings, claude=True)
    anthropic_stub.script(reply.text("Rename it in store.py and cart.py."))
    events = await collect(session, "rename Store.fetch to Store.load across the codebase")
    routed, done = events[0], events[-1]
    assert isinstance(routed, Routed) and routed.decision.route == "claude"
    assert routed.decision.reason == "multi-file work"
    assert isinstance(done, Done) and done.text == "Rename it in store.py and cart.py."
    assert done.stats.cost_usd > 0 and session.totals.cost_usd == done.stats.cost_usd
    assert anthropic_stub.message_requests[-1]["messages"][-1]["content"].startswith("rename Store.fetch")
    assert routed.model == done.stats.model == "claude-sonnet-4-6"  # the line names the model
    assert anthropic_stub.bodies("/v1/messages/count_tokens") == []  # the first token waits for nothing
    await session.runtime.aclose()


async def test_secrets_never_reach_claude(
        repo: Path, llama_server: LlamaServerInfo, anthropic_stub: AnthropicStub,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key-for-the-loopback-server")
    settings = settings_for(repo, llama_server, **stub_overrides(anthropic_stub))
    session = make_session(repo, settings, claude=True)
    session.context.add(".env")
    session.context.add("shop/cart.py")
    anthropic_stub.script(reply.text("ok"))
    events = await collect(session, "what is wrong here?", force="claude")
    notices = [e.text for e in events if isinstance(e, Notice)]
    assert any(".env" in n for n in notices)
    assert "def total" in anthropic_stub.received_text()  # the allowed file was sent...
    anthropic_stub.assert_not_received(SECRET_KEY, ENV_SECRET)  # ...but no secret
    await session.runtime.aclose()


async def test_offline_mode_never_calls_claude(
        repo: Path, llama_server: LlamaServerInfo, anthropic_stub: AnthropicStub,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key-for-the-loopback-server")
    settings = settings_for(repo, llama_server, **stub_overrides(anthropic_stub, {"privacy.cloud": False}))
    session = make_session(repo, settings, claude=True)
    events = await collect(session, "refactor every module across the whole repo", force="claude")
    routed = events[0]
    assert isinstance(routed, Routed) and routed.decision.route == "local"
    assert "offline" in routed.decision.reason
    assert anthropic_stub.requests == []
    await session.runtime.aclose()


async def test_snippet_is_kept_for_apply(repo: Path, llama_server: LlamaServerInfo) -> None:
    session = make_session(repo, settings_for(repo, llama_server, **{"completion.n_predict": 24}))
    code = await session.snippet("a function that adds two numbers")
    assert isinstance(code, str)
    assert session.last_snippet == code
    assert session.turns[-2].content == "/snippet a function that adds two numbers"
    await session.runtime.aclose()
