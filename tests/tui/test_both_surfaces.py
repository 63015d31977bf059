"""Every slash command through both chat surfaces: the Textual app (Pilot) and the plain REPL (pipe input).

The commands run once in the core (``codeassist.chat.effects``); each surface only renders what they
return, so the same command line must show the same words on both, against the real llama-server.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from textual.widgets import Markdown

from codeassist.chat import COMMANDS
from codeassist.tui.app import ChatApp
from codeassist.tui.repl import PlainChat
from codeassist.tui.screens import ConfirmScreen, HelpScreen
from codeassist.tui.widgets import AssistantMessage
from tests.chat.helpers import make_repo, make_session, settings_for
from tests.support.llama import LlamaServerInfo
from tests.tui.pilot import answer_finished, submit, wait_until
from tests.tui.test_repl import run_repl

SIZE = (110, 40)
CODE = "def add(a, b):\n    return a + b\n"
# short snippets, and room for a loaded machine (a snippet may take 4x completion.timeout)
SLOW_MACHINE = {"completion.n_predict": 24, "completion.timeout": 30.0}

# (command line, what both surfaces show for it); the lines run in this order
SCRIPT: list[tuple[str, str]] = [
    ("/add shop/store.py", "Added shop/store.py to the context."),
    ("/map", "Repository map (128 tokens):"),
    ("/symbols fetch", "shop/store.py:5"),
    ("/drop shop/store.py", "Dropped shop/store.py from the context."),
    ("/think on", "Thinking for local answers: on."),
    ("/local", "Route: local from now on"),
    ("/claude", "Route: claude from now on"),
    ("/auto", "Route: automatic again"),
    ("/claude what is a store?", "Claude is not set up"),
    ("/refactor rename fetch to load", "Refactors need Claude"),
    ("/cost", "This session: 0 Claude answer(s)"),
    ("/model", "Local: gemma3-270m-tiny. Claude: not set up. Route: auto."),
    ("/clear", "New conversation (the previous one stays in the history"),
]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "shop")


def test_the_script_runs_every_command() -> None:
    used = {line.split()[0][1:] for line, _ in SCRIPT}
    used |= {"help", "local", "snippet", "copy", "apply", "quit"}  # run by the tests below
    assert used == {spec.name for spec in COMMANDS}


def _tui_text(app: ChatApp) -> str:
    statics = [str(w.render()) for w in app.query("#conversation Static")]
    markdown = [m.source for m in app.query("#conversation > Markdown").results(Markdown)]
    return "\n".join(statics + markdown)


async def test_every_command_in_the_textual_chat(repo: Path, llama_server: LlamaServerInfo) -> None:
    session = make_session(repo, settings_for(repo, llama_server, **SLOW_MACHINE))
    app = ChatApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await submit(pilot, "/help")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        for line, shown in SCRIPT:
            await submit(pilot, line)
            await wait_until(pilot, lambda s=shown: s in _tui_text(app), what=f"{line!r} to show {shown!r}")
            if line.startswith("/claude "):  # answered (by the local model: Claude is not set up)
                await answer_finished(pilot)
        await submit(pilot, "/local what does fetch do?")
        await answer_finished(pilot)
        route = str(app.query(AssistantMessage).last().route.render())
        assert route.startswith("gemma3-270m-tiny (local) — ")
        session.last_snippet = None
        await submit(pilot, "/snippet a function that adds two numbers")
        await answer_finished(pilot)
        assert session.last_snippet is not None
        session.last_snippet = CODE
        await submit(pilot, "/copy")
        assert app.clipboard == CODE
        await submit(pilot, "/apply shop/util.py")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
        await pilot.press("y")
        await wait_until(pilot, lambda: "Wrote shop/util.py." in _tui_text(app), what="the write")
        assert (repo / "shop" / "util.py").read_text() == CODE
        await submit(pilot, "/quit")
        await pilot.pause()
    assert app.return_code == 0
    await session.runtime.aclose()


async def test_every_command_in_the_plain_repl(repo: Path, llama_server: LlamaServerInfo) -> None:
    session = make_session(repo, settings_for(repo, llama_server, **SLOW_MACHINE))
    out = io.StringIO()
    lines = ["/help\n", *(f"{line}\n" for line, _ in SCRIPT), "/local what does fetch do?\n",
             "/snippet a function that adds two numbers\n", "/copy\n", "/apply shop/util.py\n", "y\n",
             "/quit\n"]
    with create_pipe_input() as inp:
        repl = PlainChat(session, input=inp, output=DummyOutput(), out=out, history=InMemoryHistory())
        await run_repl(repl, lines, inp)
    await session.runtime.aclose()
    text = out.getvalue()
    assert "/refactor INSTRUCTION" in text  # the help lists the commands
    for line, shown in SCRIPT:
        assert shown in text, f"{line!r} did not show {shown!r}"
    assert "[gemma3-270m-tiny (local) — " in text
    assert "snippets are written by the local model" in text
    assert session.last_snippet is not None
    assert session.last_snippet.rstrip() in text  # /copy printed it (no clipboard in a plain terminal)
    assert "Wrote shop/util.py." in text
    assert (repo / "shop" / "util.py").read_text() == session.last_snippet
