"""The Textual app driven by Pilot against the real llama-server (tiny Gemma): flow, not quality."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from textual.widgets import Markdown, Static
from textual.worker import WorkerState

from codeassist.chat.session import ChatSession
from codeassist.tui.app import ChatApp
from codeassist.tui.screens import ConfirmScreen, HelpScreen
from codeassist.tui.widgets import AssistantMessage, ChatInput, StatusLine
from tests.chat.helpers import make_repo, make_session, settings_for
from tests.support.llama import LlamaServerInfo
from tests.tui.pilot import answer_finished, submit, wait_until

SIZE = (110, 40)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "shop")


def texts(app: ChatApp) -> str:
    """Everything codeassist itself wrote into the conversation (not the models' Markdown)."""
    return "\n".join(str(w.render()) for w in app.query("#conversation Static"))


async def test_a_message_gets_a_streamed_answer(repo: Path, llama_server: LlamaServerInfo) -> None:
    app = ChatApp(make_session(repo, settings_for(repo, llama_server)), notice="tiny model notice")
    async with app.run_test(size=SIZE) as pilot:
        status = app.query_one(StatusLine)
        await wait_until(pilot, lambda: status.server == "ready", what="server ready")
        await submit(pilot, "what does Store.fetch return?")
        await answer_finished(pilot)
        block = app.query(AssistantMessage).last()
        assert str(block.route.render()).startswith("gemma3-270m-tiny (local) — ")
        assert block.markdown.source.strip(), "the answer never reached the screen"
        assert block.markdown.source == app.session.turns[-1].content
        assert app.metrics.first_tokens and app.metrics.first_tokens[0].screen_at is not None
        assert status.tokens > 0 and "route auto" in str(status.render())
        assert "tiny model notice" in texts(app)
        assert app.query_one(ChatInput).value == ""


async def test_slash_commands(repo: Path, llama_server: LlamaServerInfo) -> None:
    session = make_session(repo, settings_for(repo, llama_server))
    app = ChatApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await submit(pilot, "/help")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)

        await submit(pilot, "/add shop/store.py")
        assert session.context.files == ("shop/store.py",)
        await submit(pilot, "/map")
        maps = [m.source for m in app.query("#conversation > Markdown").results(Markdown)]
        assert any("Store" in m and "shop/store.py" in m for m in maps)
        await submit(pilot, "/symbols fetch")
        assert any("`fetch`" in m.source for m in app.query("#conversation > Markdown").results(Markdown))
        await submit(pilot, "/drop shop/store.py")
        assert session.context.files == ()

        await submit(pilot, "/think on")
        assert session.think is True
        await submit(pilot, "/local")
        assert session.mode == "local" and app.query_one(StatusLine).route == "local"
        await submit(pilot, "/model")
        await submit(pilot, "/cost")
        await submit(pilot, "/hepl")
        shown = texts(app)
        assert "Local: gemma3-270m-tiny" in shown and "Claude: not set up" in shown
        assert "This session: 0 Claude answer(s)" in shown
        assert "Unknown command /hepl." in shown and "Did you mean /help?" in shown

        await submit(pilot, "/clear")
        assert session.turns == [] and len(app.query(AssistantMessage)) == 0
        await submit(pilot, "/quit")
        await pilot.pause()
    assert app.return_code == 0


async def test_escape_cancels_a_generation(repo: Path, llama_server: LlamaServerInfo) -> None:
    app = ChatApp(make_session(repo, settings_for(repo, llama_server, **{"chat.max_tokens": 3000})))
    async with app.run_test(size=SIZE) as pilot:
        await submit(pilot, "tell me a very long story about a shop")
        await wait_until(pilot, lambda: bool(app.metrics.first_tokens), what="the first token")
        await pilot.press("escape")
        await answer_finished(pilot)
        assert app.answer_worker is not None and app.answer_worker.state == WorkerState.CANCELLED
        block = app.query(AssistantMessage).last()
        assert "Stopped." in [str(s.render()) for s in block.query(Static)]
        assert app.session.turns[-1].content.endswith("*(cancelled)*")
    deadline = time.monotonic() + 10
    async with httpx.AsyncClient() as http:
        while any(s.get("is_processing") for s in (await http.get(f"{llama_server.url}/slots")).json()):
            assert time.monotonic() < deadline, "llama-server kept generating after Esc"
            await asyncio.sleep(0.05)


async def test_input_history_and_completion(repo: Path, llama_server: LlamaServerInfo) -> None:
    app = ChatApp(make_session(repo, settings_for(repo, llama_server)))
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(ChatInput)
        await pilot.press(*"/sni")
        await wait_until(pilot, lambda: prompt._suggestion == "/snippet", what="a suggestion")
        await pilot.press("tab")
        assert prompt.value == "/snippet"
        prompt.value = ""
        await pilot.press(*"/add shop/st")
        await wait_until(pilot, lambda: prompt._suggestion == "/add shop/store.py", what="a path suggestion")
        await pilot.press("tab", "enter")
        await submit(pilot, "/think off")
        await pilot.press("up")
        assert prompt.value == "/think off"
        await pilot.press("up")
        assert prompt.value == "/add shop/store.py"
        await pilot.press("down", "down")
        assert prompt.value == ""


async def test_snippet_then_apply_asks_first(repo: Path, llama_server: LlamaServerInfo) -> None:
    settings = settings_for(repo, llama_server, **{"completion.n_predict": 24})
    session: ChatSession = make_session(repo, settings)
    app = ChatApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await submit(pilot, "/snippet a function that adds two numbers")
        await answer_finished(pilot)
        assert session.last_snippet is not None
        await submit(pilot, "/apply shop/new_util.py")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
        await pilot.press("n")
        await pilot.pause()
        assert not (repo / "shop" / "new_util.py").exists()
        await submit(pilot, "/apply shop/new_util.py")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
        await pilot.press("y")
        await wait_until(pilot, lambda: (repo / "shop" / "new_util.py").exists(), what="the file")
        assert (repo / "shop" / "new_util.py").read_text() == session.last_snippet
        await submit(pilot, "/apply ../outside.py")
        assert "is outside the repository" in texts(app)


async def test_resume_shows_the_last_conversation(repo: Path, llama_server: LlamaServerInfo) -> None:
    first = ChatApp(make_session(repo, settings_for(repo, llama_server)))
    async with first.run_test(size=SIZE) as pilot:
        await submit(pilot, "what does Store.fetch return?")
        await answer_finished(pilot)
        answer = first.query(AssistantMessage).last().markdown.source
    assert answer.strip()
    again = ChatApp(make_session(repo, settings_for(repo, llama_server)), resume=True)
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "Resumed the last conversation (2 messages)." in texts(again)
        assert [str(m.render()) for m in again.query("#conversation UserMessage")] == [
            "what does Store.fetch return?"]
        block = again.query(AssistantMessage).last()
        assert block.markdown.source == answer and str(block.route.render()).endswith("(local)")
        # and the conversation goes on from there: the earlier turns are the new answer's history
        assert [t.content for t in again.session.turns] == ["what does Store.fetch return?", answer]
