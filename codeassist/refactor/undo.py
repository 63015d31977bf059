"""``codeassist refactor --undo BRANCH``: remove a branch (and its kept worktree) made by a refactor."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from codeassist.errors import GitError
from codeassist.refactor.gitops import TRAILER, GitRepo


@dataclass(frozen=True)
class UndoResult:
    branch: str
    commit: str
    worktree: Path | None


def undo(repo_path: Path, branch: str) -> UndoResult:
    """Delete ``branch`` if codeassist made it; refuse anything else with a clear message."""
    repo = GitRepo.open(repo_path)
    if not repo.branch_exists(branch):
        raise GitError(f"There is no branch `{branch}`.", hint="`git branch --list 'codeassist/*'` lists "
                       "the branches made by codeassist refactor.")
    if repo.current_branch() == branch:
        raise GitError(f"`{branch}` is your current branch; it cannot be removed while checked out.",
                       hint="Switch to another branch first (git switch -).")
    if TRAILER not in repo.tip_message(branch):
        raise GitError(f"`{branch}` was not made by codeassist refactor (its last commit has no "
                       f"`{TRAILER}` line), so it is left alone.",
                       hint=f"Delete it yourself if you mean it: git branch -D {branch}")
    commit = repo.resolve_commit(f"refs/heads/{branch}")
    kept: Path | None = None
    for info in repo.worktrees():
        if info.branch != branch:
            continue
        if info.path.parent.resolve() != repo.worktrees_dir.resolve():
            raise GitError(f"`{branch}` is checked out in the worktree {info.path}, which codeassist did "
                           "not create.",
                           hint=f"Remove that worktree first (git worktree remove {info.path}).")
        kept = info.path
        repo.remove_worktree(info.path)
    repo.delete_branch(branch)
    return UndoResult(branch, commit, kept)
