"""The prompt-toolkit REPL (`codeassist chat --plain`) with pipe input, against the real llama-server."""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from codeassist.tui.repl import PlainChat, SlashCompleter
from tests.chat.helpers import make_repo, make_session, settings_for
from tests.support.llama import LlamaServerInfo

UP = "\x1b[A"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "shop")


async def run_repl(repl: PlainChat, lines: list[str], inp: object, timeout: float = 240) -> None:
    """Type each line when the REPL waits for input, as a user would."""
    task = asyncio.create_task(repl.run(notice="tiny model notice"))
    deadline = time.monotonic() + timeout
    for number, line in enumerate(lines, 1):
        while repl.prompts_shown < number:
            assert not task.done(), "the REPL ended early"
            assert time.monotonic() < deadline, f"the REPL never asked for line {number}: {line!r}"
            await asyncio.sleep(0.01)
        inp.send_text(line)  # type: ignore[attr-defined]
    await asyncio.wait_for(task, timeout=timeout)


async def test_repl_streams_answers_and_runs_commands(repo: Path, llama_server: LlamaServerInfo) -> None:
    session = make_session(repo, settings_for(repo, llama_server))
    out = io.StringIO()
    with create_pipe_input() as inp:
        repl = PlainChat(session, input=inp, output=DummyOutput(), out=out, history=InMemoryHistory())
        await run_repl(repl, ["/add shop/store.py\n", "what does fetch do?\n", "/think on\n", UP + "\n",
                              "/model\n", "/bogus\n", "/quit\n"], inp)
    await session.runtime.aclose()
    text = out.getvalue()
    assert "tiny model notice" in text
    assert "Added shop/store.py to the context." in text
    assert "[gemma3-270m-tiny (local) — " in text
    assert "answer tokens" in text
    assert text.count("Thinking for local answers: on.") == 2  # ↑ recalled the last input
    assert "Local: gemma3-270m-tiny. Claude: not set up. Route: auto." in text
    assert "error: Unknown command /bogus." in text
    answer = session.turns[1].content
    assert answer and answer in text  # the streamed text is what the session kept


async def test_apply_asks_before_writing(repo: Path, llama_server: LlamaServerInfo) -> None:
    session = make_session(repo, settings_for(repo, llama_server))
    session.last_snippet = "def add(a, b):\n    return a + b\n"
    out = io.StringIO()
    with create_pipe_input() as inp:
        repl = PlainChat(session, input=inp, output=DummyOutput(), out=out, history=InMemoryHistory())
        await run_repl(repl, ["/apply shop/util.py\n", "n\n", "/apply shop/util.py\n", "y\n", "/quit\n"], inp)
    text = out.getvalue()
    assert "Not written: shop/util.py is unchanged." in text
    assert "+def add(a, b):" in text and "Wrote shop/util.py." in text
    assert (repo / "shop" / "util.py").read_text() == session.last_snippet


def test_completer_offers_commands_and_paths(repo: Path) -> None:
    completer = SlashCompleter(repo)

    def options(text: str) -> list[str]:
        return [c.text for c in completer.get_completions(Document(text), CompleteEvent())]

    assert options("/re") == ["/refactor"]
    assert options("/add shop/c") == ["/add shop/cart.py"]
    assert options("plain text") == []
