"""/refactor inside the TUI: plan screen, per-file diff review, accept creates the branch, reject
discards. Claude is the loopback Anthropic server; git is real."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from codeassist.tui.app import ChatApp
from codeassist.tui.screens import DiffReviewScreen, PlanScreen
from codeassist.tui.widgets import AssistantMessage
from tests.chat.helpers import make_repo, make_session, settings_for, stub_overrides
from tests.support.anthropic_stub import TEST_API_KEY, AnthropicStub, reply
from tests.support.llama import LlamaServerInfo
from tests.tui.pilot import submit, wait_until

INSTRUCTION = "/refactor Rename Store.fetch to Store.load in shop/store.py and shop/cart.py"


def script(stub: AnthropicStub) -> None:
    stub.script(
        reply.tool_use("submit_plan", {
            "summary": "Rename Store.fetch to Store.load.",
            "steps": [{"description": "Rename the method", "files": ["shop/store.py"]},
                      {"description": "Update the caller", "files": ["shop/cart.py"]}],
            "files_to_change": ["shop/store.py", "shop/cart.py"],
            "rationale": "A pure rename.",
        }, text="Here is the plan."),
        reply.edits(
            ("str_replace", "shop/store.py", {"old_str": "    def fetch(self, key):",
                                              "new_str": "    def load(self, key):"}),
            ("str_replace", "shop/cart.py", {"old_str": "store.fetch(k)", "new_str": "store.load(k)"}),
        ),
        reply.text("Renamed fetch to load."),
    )


def branches(repo: Path) -> list[str]:
    out = subprocess.run(["git", "for-each-ref", "--format=%(refname:short)", "refs/heads"], cwd=repo,
                         capture_output=True, text=True, check=True).stdout
    return out.split()


def make_app(tmp_path: Path, server: LlamaServerInfo, stub: AnthropicStub) -> tuple[ChatApp, Path]:
    repo = make_repo(tmp_path / "shop")
    settings = settings_for(repo, server, **stub_overrides(stub))
    return ChatApp(make_session(repo, settings, claude=True)), repo


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", TEST_API_KEY)


async def review(pilot: Any, app: ChatApp, final_key: str) -> str:
    await submit(pilot, INSTRUCTION)
    await wait_until(pilot, lambda: isinstance(app.screen, PlanScreen), what="the plan screen")
    assert "Rename Store.fetch to Store.load." in str(app.screen.query_one("#plan").render())
    await pilot.press("a")
    await wait_until(pilot, lambda: isinstance(app.screen, DiffReviewScreen), what="the diff review")
    screen = app.screen
    assert isinstance(screen, DiffReviewScreen)
    assert sorted(d.path for d in screen.diffs) == ["shop/cart.py", "shop/store.py"]
    first = screen.shown
    assert first is not None and "+" in first.diff and "load" in first.diff
    await pilot.press("n")  # the next file's diff
    assert screen.shown is not None and screen.shown is not first and "load" in screen.shown.diff
    await pilot.press(final_key)
    assert app.refactor_worker is not None
    await wait_until(pilot, lambda: app.refactor_worker is not None and app.refactor_worker.is_finished,
                     what="the refactor to finish")
    await pilot.pause()
    return app.query(AssistantMessage).last().markdown.source


async def test_accepting_the_review_creates_the_branch(tmp_path: Path, llama_server: LlamaServerInfo,
                                                       anthropic_stub: AnthropicStub) -> None:
    script(anthropic_stub)
    app, repo = make_app(tmp_path, llama_server, anthropic_stub)
    async with app.run_test(size=(120, 40)) as pilot:
        text = await review(pilot, app, "a")
        assert "**Refactor committed**" in text
        steps = [str(s.render()) for s in app.query(AssistantMessage).last().query(".stats")]
        assert any(s.startswith("[plan]") for s in steps) and any(s.startswith("[commit]") for s in steps)
        assert app.session.totals.cost_usd > 0
    new = [b for b in branches(repo) if b != "main"]
    assert len(new) == 1 and new[0].startswith("codeassist/")
    shown = subprocess.run(["git", "show", f"{new[0]}:shop/store.py"], cwd=repo, capture_output=True,
                           text=True, check=True).stdout
    assert "def load(self, key):" in shown
    assert "def fetch(self, key):" in (repo / "shop" / "store.py").read_text()  # the checkout is untouched


async def test_rejecting_the_review_discards_everything(tmp_path: Path, llama_server: LlamaServerInfo,
                                                        anthropic_stub: AnthropicStub) -> None:
    script(anthropic_stub)
    app, repo = make_app(tmp_path, llama_server, anthropic_stub)
    async with app.run_test(size=(120, 40)) as pilot:
        text = await review(pilot, app, "r")
        assert "**Refactor declined**" in text
    assert branches(repo) == ["main"]
    assert "def fetch(self, key):" in (repo / "shop" / "store.py").read_text()


async def test_escape_stops_a_running_refactor(tmp_path: Path, llama_server: LlamaServerInfo,
                                               anthropic_stub: AnthropicStub) -> None:
    script(anthropic_stub)
    anthropic_stub._queue[1].delay = 2.0  # the edit turn streams slowly: about 20 s in all
    app, repo = make_app(tmp_path, llama_server, anthropic_stub)
    before = (repo / "shop" / "store.py").read_text()
    async with app.run_test(size=(120, 40)) as pilot:
        await submit(pilot, INSTRUCTION)
        await wait_until(pilot, lambda: isinstance(app.screen, PlanScreen), what="the plan screen")
        await pilot.press("a")
        await wait_until(pilot, lambda: anthropic_stub.pending == 1, what="the edit turn to start")
        await submit(pilot, INSTRUCTION)  # a second refactor is refused while one runs
        assert len(anthropic_stub.message_requests) == 2
        stopped_at = time.monotonic()
        await pilot.press("escape")

        def notices() -> list[str]:
            return [str(s.render()) for s in app.query(AssistantMessage).last().query(".notice")]

        await wait_until(pilot, lambda: any("Refactor stopped" in line for line in notices()), timeout=15,
                         what="the refactor to stop")
        assert time.monotonic() - stopped_at < 10  # the stream was closed, not read to its end
        await wait_until(pilot, lambda: not app.refactor_busy.is_set(), timeout=5, what="the thread to end")
        assert not isinstance(app.screen, (PlanScreen, DiffReviewScreen))
    assert anthropic_stub.pending == 1  # the final turn was never asked for
    assert branches(repo) == ["main"]
    assert (repo / "shop" / "store.py").read_text() == before
    worktrees = subprocess.run(["git", "worktree", "list"], cwd=repo, capture_output=True, text=True).stdout
    assert len(worktrees.strip().splitlines()) == 1
