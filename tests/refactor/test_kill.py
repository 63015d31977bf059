"""`kill -9` of a refactor in the middle of applying edits leaves the user's checkout untouched."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from codeassist.refactor.gitops import GitRepo
from tests.refactor.conftest import Checkout, assert_no_worktrees, plan_reply
from tests.refactor.test_cli import cli_env
from tests.support.anthropic_stub import AnthropicStub, reply


def _wait_for(condition: object, timeout: float, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        if proc.poll() is not None:
            raise AssertionError(f"the refactor ended early: {proc.communicate()}")
        time.sleep(0.05)
    raise AssertionError("the refactor did not reach the expected point in time")


def test_kill_9_mid_apply_leaves_the_checkout_untouched(repo: Path, anthropic_stub: AnthropicStub) -> None:
    before = Checkout.take(repo)
    anthropic_stub.script(
        plan_reply(),
        reply.edit("str_replace", "shop/store.py", old_str="def fetch(", new_str="def load("),
        reply.text("Now the callers. " * 40, delay=0.25),  # a slow turn: the process is killed here
        reply.text("Done."),
    )
    worktrees = repo / ".git" / "codeassist-worktrees"
    proc = subprocess.Popen(
        [sys.executable, "-m", "codeassist", "-C", str(repo), "refactor", "Rename Store.fetch to Store.load",
         "--yes", "--branch", "refactor/killed"],
        env=cli_env(anthropic_stub), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def edited_and_streaming() -> bool:
            applied = any("def load(" in p.read_text() for p in worktrees.glob("*/shop/store.py"))
            return applied and len(anthropic_stub.message_requests) >= 3
        _wait_for(edited_and_streaming, 120, proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()

    assert proc.returncode == -signal.SIGKILL
    before.assert_same_checkout(repo)
    assert Checkout.take(repo).branches == before.branches  # no branch, so no partial commit either
    (stale,) = [p for p in worktrees.iterdir() if p.is_dir()]
    assert "def load(" in (stale / "shop" / "store.py").read_text()  # it really was mid-apply
    GitRepo.open(repo).prune_stale()  # what the next refactor does first
    assert_no_worktrees(repo)
    before.assert_untouched(repo)
