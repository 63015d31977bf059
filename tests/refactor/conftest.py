"""Fixtures for refactor tests: a real git repository with uncommitted work, and a checkout snapshot.

The user's repository always has all three kinds of uncommitted changes before a refactor runs: a
staged change, an unstaged change and an untracked file. ``Checkout`` captures everything the user
could see (working-tree bytes, ``git status``, the index file's hash, HEAD, the current branch,
the branches) so each test can assert that nothing of it moved.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from codeassist.claude.client import ClaudeClient
from codeassist.claude.ledger import Ledger
from codeassist.config import Settings, load_settings
from codeassist.index import RepoIndex
from codeassist.refactor import AcceptAll, RefactorOptions, RefactorReport, RefactorRunner
from tests.support.anthropic_stub import TEST_API_KEY, AnthropicStub

MODEL = "claude-sonnet-4-6"

STORE = '''\
"""Key-value storage."""


class Store:
    def __init__(self):
        self._data = {}

    def put(self, key, value):
        self._data[key] = value

    def fetch(self, key):
        return self._data.get(key)
'''

SERVICE = '''\
from shop.store import Store


def price_of(store: Store, item: str) -> int:
    value = store.fetch(item)
    return int(value or 0)


def total(store: Store, items: list[str]) -> int:
    return sum(price_of(store, item) for item in items)
'''

TEST_STORE = '''\
from shop.store import Store


def test_roundtrip():
    store = Store()
    store.put("a", 1)
    assert store.fetch("a") == 1
'''


def git(repo: Path, *args: str, check: bool = True) -> str:
    proc = subprocess.run(["git", "--no-optional-locks", *args], cwd=repo, capture_output=True, text=True,
                          check=check)
    return proc.stdout


@dataclass(frozen=True)
class Checkout:
    files: dict[str, bytes]
    status: str
    index_sha: str
    head: str
    branch: str
    branches: tuple[str, ...]

    @classmethod
    def take(cls, repo: Path) -> Checkout:
        index_sha = hashlib.sha256((repo / ".git" / "index").read_bytes()).hexdigest()  # before any git call
        files = {
            p.relative_to(repo).as_posix(): p.read_bytes()
            for p in sorted(repo.rglob("*"))
            if p.is_file() and not p.is_symlink()
            and p.relative_to(repo).parts[0] not in (".git", ".codeassist")
        }
        return cls(
            files=files,
            status=git(repo, "status", "--porcelain=v1", "--untracked-files=all"),
            index_sha=index_sha,
            head=git(repo, "rev-parse", "HEAD").strip(),
            branch=git(repo, "symbolic-ref", "HEAD").strip(),
            branches=tuple(git(repo, "for-each-ref", "--format=%(refname)", "refs/heads").split()),
        )

    def assert_same_checkout(self, repo: Path) -> None:
        """Working tree, status, index, HEAD and current branch byte-identical (branches may grow)."""
        now = Checkout.take(repo)
        assert now.files == self.files
        assert now.status == self.status
        assert now.index_sha == self.index_sha
        assert now.head == self.head
        assert now.branch == self.branch

    def assert_untouched(self, repo: Path) -> None:
        """Same checkout and no new branch, no leftover worktree."""
        self.assert_same_checkout(repo)
        assert Checkout.take(repo).branches == self.branches
        assert_no_worktrees(repo)


def assert_no_worktrees(repo: Path) -> None:
    listed = [line for line in git(repo, "worktree", "list", "--porcelain").splitlines()
              if line.startswith("worktree ")]
    assert listed == [f"worktree {repo}"]
    leftovers = repo / ".git" / "codeassist-worktrees"
    assert not leftovers.exists() or not any(leftovers.iterdir())


def make_repo(root: Path) -> Path:
    repo = root / "shop-repo"
    (repo / "shop").mkdir(parents=True)
    (repo / "tests").mkdir()
    (repo / "shop" / "__init__.py").write_text("")
    (repo / "shop" / "store.py").write_text(STORE)
    (repo / "shop" / "service.py").write_text(SERVICE)
    (repo / "tests" / "test_store.py").write_text(TEST_STORE)
    (repo / "README.md").write_text("# shop\n\nA tiny shop.\n")
    (repo / "notes.txt").write_text("first\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "dev@example.com")
    git(repo, "config", "user.name", "Dev")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "initial")
    # uncommitted work of every kind: staged, unstaged, untracked
    (repo / "notes.txt").write_text("first\nstaged line\n")
    git(repo, "add", "notes.txt")
    (repo / "README.md").write_text("# shop\n\nA tiny shop. (work in progress)\n")
    (repo / "scratch.py").write_text("print('untracked')\n")
    return repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


def settings_for(repo: Path, stub_overrides: dict[str, Any], **extra: Any) -> Settings:
    overrides = {**stub_overrides, "claude.model": MODEL, "claude.max_retries": 2, **extra}
    return load_settings(repo, overrides=overrides, env={})


@pytest.fixture
def index(repo: Path) -> Iterator[RepoIndex]:
    idx = RepoIndex.open(repo)
    idx.update()
    yield idx
    idx.close()


def run_refactor(repo: Path, stub: AnthropicStub, instruction: str, index: RepoIndex | None = None,
                 **options: Any) -> RefactorReport:
    settings = settings_for(repo, stub.overrides())
    client = ClaudeClient(settings, Ledger(repo.parent / "ledger.db"), api_key=TEST_API_KEY,
                          command="refactor")
    opts = RefactorOptions(**{"yes": True, "branch": "refactor/test", **options})
    try:
        return RefactorRunner(repo, settings, client, index).run(instruction, opts, AcceptAll())
    finally:
        client.close()


def plan_reply(summary: str = "Rename Store.fetch to Store.load everywhere.",
               files: tuple[str, ...] = ("shop/store.py", "shop/service.py", "tests/test_store.py")) -> Any:
    from tests.support.anthropic_stub import reply

    return reply.tool_use("submit_plan", {
        "summary": summary,
        "steps": [{"description": "Rename the method definition", "files": [files[0]]},
                  {"description": "Update every call site", "files": list(files[1:])}],
        "files_to_change": list(files),
        "rationale": "A pure rename; behaviour is unchanged.",
    }, text="Here is the plan.")


def swap(path: str, old: str = "store.fetch(", new: str = "store.load(") -> tuple[str, str, dict[str, str]]:
    """One ``str_replace`` call for :meth:`reply.edits`."""
    return ("str_replace", path, {"old_str": old, "new_str": new})


def tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The tool_result blocks of the last user message of a request body."""
    content = body["messages"][-1]["content"]
    if isinstance(content, str):
        return []
    return [b for b in content if b.get("type") == "tool_result"]


def result_text(block: dict[str, Any]) -> str:
    content = block.get("content")
    if isinstance(content, list):
        return "".join(c.get("text", "") for c in content)
    return str(content)
