"""`codeassist refactor` as a user runs it, against the loopback API server.

Most cases run the real entry point (``codeassist.cli.main``: argument parsing, error messages,
exit codes) in-process for speed; one runs ``python -m codeassist`` as a subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from codeassist.cli import main
from codeassist.index import RepoIndex
from tests.refactor.conftest import MODEL, Checkout, assert_no_worktrees, git, plan_reply, swap
from tests.support.anthropic_stub import AnthropicStub, reply

ROOT = Path(__file__).resolve().parents[2]
RENAME = "Rename Store.fetch to Store.load"


def cli_env(stub: AnthropicStub) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CODEASSIST_", "ANTHROPIC_"))}
    env.update(stub.env())
    env.update({"CODEASSIST_CLAUDE_MODEL": MODEL, "CODEASSIST_CLAUDE_RETRY_BACKOFF": "0.01",
                "PYTHONPATH": str(ROOT), "NO_COLOR": "1"})
    return env


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


def codeassist(repo: Path, stub: AnthropicStub, *args: str, stdin: str = "") -> Ran:
    """``codeassist -C repo refactor ARGS`` through the real entry point, in this process."""
    with CliRunner().isolation(input=stdin, env=cli_env(stub)) as streams:
        try:
            main(["-C", str(repo), "refactor", *args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = streams[0].getvalue(), streams[1].getvalue()
    return Ran(code, out.decode(), err.decode())


def codeassist_process(repo: Path, stub: AnthropicStub, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "codeassist", "-C", str(repo), "refactor", *args],
                          env=cli_env(stub), capture_output=True, text=True, timeout=120)


def rename_script(stub: AnthropicStub) -> None:
    stub.script(
        plan_reply(),
        reply.edits(swap("shop/store.py", "def fetch(", "def load("),
                    swap("shop/service.py"),
                    swap("tests/test_store.py")),
        reply.text("Done."),
    )


def test_dry_run_prints_plan_and_estimate_and_creates_nothing(repo: Path, index: RepoIndex,
                                                             anthropic_stub: AnthropicStub) -> None:
    before = Checkout.take(repo)
    anthropic_stub.script(plan_reply())

    proc = codeassist(repo, anthropic_stub, RENAME, "--dry-run")

    assert proc.returncode == 0, proc.stderr
    assert "Rename Store.fetch to Store.load everywhere." in proc.stdout
    assert "1. Rename the method definition  [shop/store.py]" in proc.stdout
    assert "change: shop/store.py, shop/service.py, tests/test_store.py" in proc.stdout
    assert f"prompt tokens on {MODEL}; plan up to $" in proc.stdout
    assert "Nothing committed (dry_run)" in proc.stdout
    assert "tokens: " in proc.stdout and "cost $" in proc.stdout
    assert len(anthropic_stub.message_requests) == 1  # the plan only; no edit turn
    before.assert_untouched(repo)


def test_max_cost_refuses_before_anything_is_sent(repo: Path, anthropic_stub: AnthropicStub) -> None:
    before = Checkout.take(repo)
    anthropic_stub.script(plan_reply())

    proc = codeassist_process(repo, anthropic_stub, RENAME, "--yes", "--max-cost", "0.0001")

    assert proc.returncode == 6
    assert "codeassist: This refactor is estimated at $" in proc.stderr
    assert "above the limit of $0.00. Nothing was sent." in proc.stderr
    assert "Traceback" not in proc.stderr
    assert anthropic_stub.message_requests == []  # count_tokens only
    assert anthropic_stub.bodies("/v1/messages/count_tokens")
    before.assert_untouched(repo)


def test_commit_report_then_undo(repo: Path, index: RepoIndex, anthropic_stub: AnthropicStub) -> None:
    before = Checkout.take(repo)
    rename_script(anthropic_stub)

    proc = codeassist(repo, anthropic_stub, RENAME, "--yes", "--branch", "refactor/load", "--keep-worktree")

    assert proc.returncode == 0, proc.stderr
    assert "Committed on branch refactor/load" in proc.stdout
    assert "3 files changed, 3 insertions(+), 3 deletions(-)" in proc.stdout
    assert "tokens: " in proc.stdout and " cache read" in proc.stdout and "cost $" in proc.stdout
    assert "undo: codeassist refactor --undo refactor/load" in proc.stdout
    kept = Path(proc.stdout.split("worktree kept at ")[1].split()[0])
    assert kept.parent == repo / ".git" / "codeassist-worktrees"
    assert git(kept, "symbolic-ref", "--short", "HEAD").strip() == "refactor/load"
    before.assert_same_checkout(repo)

    undone = codeassist(repo, anthropic_stub, "--undo", "refactor/load")

    assert undone.returncode == 0, undone.stderr
    assert "Deleted branch refactor/load" in undone.stdout and f"Removed its worktree {kept}" in undone.stdout
    assert not kept.exists()
    before.assert_untouched(repo)


def test_undo_refuses_branches_it_did_not_make(repo: Path, anthropic_stub: AnthropicStub) -> None:
    git(repo, "branch", "feature")
    before = Checkout.take(repo)

    foreign = codeassist(repo, anthropic_stub, "--undo", "feature")
    current = codeassist(repo, anthropic_stub, "--undo", "main")
    missing = codeassist(repo, anthropic_stub, "--undo", "nope")

    assert foreign.returncode == 7 and "was not made by codeassist refactor" in foreign.stderr
    assert current.returncode == 7 and "is your current branch" in current.stderr
    assert missing.returncode == 7 and "There is no branch `nope`" in missing.stderr
    assert git(repo, "rev-parse", "--verify", "feature").strip() == before.head
    before.assert_untouched(repo)
    assert_no_worktrees(repo)


def test_bad_input_gets_a_clear_message(repo: Path, anthropic_stub: AnthropicStub, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    git(fresh, "init", "-q")
    not_git = codeassist(plain, anthropic_stub, RENAME, "--yes")
    no_commit = codeassist(fresh, anthropic_stub, RENAME, "--yes")
    assert not_git.returncode == 7 and "is not inside a git repository" in not_git.stderr
    assert no_commit.returncode == 7 and "`HEAD` is not a commit" in no_commit.stderr
    assert not (plain / ".codeassist").exists()
    before = Checkout.take(repo)
    empty = codeassist(repo, anthropic_stub)
    bad_base = codeassist(repo, anthropic_stub, RENAME, "--base", "no-such-rev", "--yes")
    taken = codeassist(repo, anthropic_stub, RENAME, "--branch", "main", "--yes")
    missing_file = codeassist(repo, anthropic_stub, RENAME, "--files", "shop/nope.py", "--yes")

    assert empty.returncode == 2 and "Say what to refactor" in empty.stderr
    assert bad_base.returncode == 7 and "`no-such-rev` is not a commit" in bad_base.stderr
    assert taken.returncode == 7 and "Branch `main` already exists" in taken.stderr
    assert missing_file.returncode == 2 and "shop/nope.py" in missing_file.stderr
    assert all("Traceback" not in p.stderr for p in (empty, bad_base, taken, missing_file))
    assert anthropic_stub.requests == []
    before.assert_untouched(repo)


def test_declining_the_plan_or_the_review_commits_nothing(repo: Path, index: RepoIndex,
                                                          anthropic_stub: AnthropicStub) -> None:
    before = Checkout.take(repo)
    anthropic_stub.script(plan_reply())
    declined_plan = codeassist(repo, anthropic_stub, RENAME, stdin="n\n")
    rename_script(anthropic_stub)
    # apply the plan: yes; show the diffs: yes; commit: no
    declined_review = codeassist(repo, anthropic_stub, RENAME, stdin="y\ny\nn\n")

    assert declined_plan.returncode == 130
    assert "Apply this plan in a new worktree?" in declined_plan.stdout
    assert "The plan was declined; nothing was changed." in declined_plan.stderr
    assert declined_review.returncode == 130
    assert "modified  shop/store.py  +1 -1" in declined_review.stdout
    assert "+    def load(self, key):" in declined_review.stdout  # the diff was shown
    assert "The changes were declined at review; nothing was committed." in declined_review.stderr
    assert len(anthropic_stub.message_requests) == 1 + 3
    before.assert_untouched(repo)
