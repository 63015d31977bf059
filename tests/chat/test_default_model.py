"""The main job on the offline default model: an everyday question gets a right, clean answer.

Against the real llama-server with the model a fresh install uses (``default_llama_server``,
started once per session), through every chat surface: ``codeassist ask`` as a process, the plain
REPL, and the Textual app. The answers are checked on content, and no turn marker of any chat
template may reach the screen.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from codeassist.runtime import catalogue
from codeassist.runtime.templates import TURN_MARKERS
from codeassist.tui.app import ChatApp
from codeassist.tui.repl import PlainChat
from codeassist.tui.widgets import AssistantMessage
from tests.chat.helpers import make_repo, make_session, settings_for
from tests.support.llama import LlamaServerInfo
from tests.tui.pilot import answer_finished, submit, wait_until
from tests.tui.test_repl import run_repl

# A real 0.5B model answering ~100 tokens: seconds on two free cores, minutes on a crowded machine.
pytestmark = pytest.mark.timeout(900)

EXE = str(Path(sys.executable).with_name("codeassist"))
REVERSE = "How do I reverse a list in Python?"
REVERSED = re.compile(r"\[::-1\]|\.reverse\(\)|reversed\(")
MAX_TOKENS = 96
GREEDY = {"chat.max_tokens": MAX_TOKENS, "chat.temperature": 0.0}  # reproducible answers


def assert_clean(text: str) -> None:
    leaked = [marker for marker in TURN_MARKERS if marker in text]
    assert not leaked, f"template markers reached the screen: {leaked}\n{text}"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "shop")


def test_ask_answers_an_everyday_question(repo: Path, default_llama_server: LlamaServerInfo) -> None:
    env = {**os.environ, "CODEASSIST_SERVER_URL": default_llama_server.url,
           "CODEASSIST_CHAT_MAX_TOKENS": str(MAX_TOKENS), "CODEASSIST_CHAT_TEMPERATURE": "0"}
    question = "How do I parse a JSON string in JavaScript?"
    done = subprocess.run([EXE, "ask", "--route", "local", question], cwd=repo, capture_output=True,
                          text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "JSON.parse(" in done.stdout, done.stdout
    assert_clean(done.stdout)
    assert f"[{catalogue.DEFAULT_MODEL} (local) — " in done.stderr  # the default, with no configuration


async def test_plain_chat_answers_cleanly(repo: Path, default_llama_server: LlamaServerInfo) -> None:
    session = make_session(repo, settings_for(repo, default_llama_server, **GREEDY))
    out = io.StringIO()
    with create_pipe_input() as inp:
        repl = PlainChat(session, input=inp, output=DummyOutput(), out=out, history=InMemoryHistory())
        await run_repl(repl, ["/local\n", REVERSE + "\n", "/quit\n"], inp, timeout=800)
    await session.runtime.aclose()
    text = out.getvalue()
    answer = session.turns[-1].content
    assert REVERSED.search(answer), answer
    assert answer.strip() in text
    assert_clean(text)


async def test_textual_chat_answers_cleanly(repo: Path, default_llama_server: LlamaServerInfo) -> None:
    settings = settings_for(repo, default_llama_server, **GREEDY)
    app = ChatApp(make_session(repo, settings))
    async with app.run_test(size=(110, 40)) as pilot:
        await wait_until(pilot, lambda: app.status.server == "ready", timeout=600, what="server ready")
        await submit(pilot, "/local")
        await submit(pilot, "How do I count the number of lines in a file from the shell?")
        await answer_finished(pilot, timeout=600)
        block = app.query(AssistantMessage).last()
        shown = block.markdown.source
    assert "wc -l" in shown, shown
    assert str(block.route.render()).startswith(f"{catalogue.DEFAULT_MODEL} (local) — ")
    assert_clean(shown)
