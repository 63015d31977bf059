"""Which files and identifiers a refactor sends: the real index and git, no model involved."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeassist.claude.privacy import PrivacyGuard
from codeassist.config import PrivacySettings
from codeassist.errors import UsageError
from codeassist.index import RepoIndex
from codeassist.refactor.context import Budget, Context, gather
from codeassist.refactor.gitops import GitRepo
from tests.refactor.conftest import git


def _gather(repo: Path, index: RepoIndex | None, instruction: str, explicit: tuple[str, ...] = (),
            budget: Budget | None = None) -> Context:
    git_repo = GitRepo.open(repo)
    head = git_repo.resolve_commit("HEAD")
    return gather(instruction, explicit, git_repo.files_at(head), lambda p: git_repo.read_text(head, p),
                  PrivacyGuard(PrivacySettings()).allowed, index, budget or Budget())


def test_definitions_and_references_pull_in_their_files(repo: Path, index: RepoIndex) -> None:
    ctx = _gather(repo, index, "Rename Store.fetch to Store.load")
    assert ctx.identifiers[:2] == ["Store", "fetch"]
    assert next(iter(ctx.files)) == "shop/store.py"  # where they are defined comes first
    assert {"shop/service.py", "tests/test_store.py"} <= set(ctx.files)  # where they are used
    assert ctx.files["shop/store.py"] == git(repo, "show", "HEAD:shop/store.py")  # the base, not the disk
    assert "scratch.py" not in ctx.files  # untracked: not part of the base
    assert "Store" in ctx.repo_map and "shop/store.py" in ctx.repo_map


def test_named_files_secrets_and_the_budget(repo: Path, index: RepoIndex) -> None:
    (repo / ".env").write_text("TOKEN=abc\n")
    git(repo, "add", ".env")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "env")
    ctx = _gather(repo, index, "Document the settings read from .env in README.md", ("shop/store.py",))
    assert list(ctx.files)[:2] == ["shop/store.py", "README.md"]  # --files first, then named ones
    assert ctx.private == [".env"] and ".env" not in ctx.files  # a secret file never goes
    small = _gather(repo, index, "Rename Store.fetch", budget=Budget(file_tokens=40))
    assert "shop/store.py" in small.left_out and "shop/store.py" not in small.files
    assert sum(len(t) for t in small.files.values()) <= 40 * 4


def test_missing_explicit_files_are_a_usage_error(repo: Path, index: RepoIndex) -> None:
    with pytest.raises(UsageError, match=r"scratch\.py"):  # exists on disk, not at the base commit
        _gather(repo, index, "Tidy up", ("scratch.py",))


def test_without_an_index_only_named_files_go(repo: Path) -> None:
    ctx = _gather(repo, None, "Rename fetch in shop/store.py")
    assert list(ctx.files) == ["shop/store.py"] and ctx.repo_map == "" and ctx.identifiers == []
