"""The git boundary (GitPython): the only module of codeassist that imports ``git``.

Everything here leaves the user's checkout alone: their HEAD, current branch, index file and
working tree are never read-modify-written. Refactors happen in a detached worktree under
``<git common dir>/codeassist-worktrees/<id>``; the branch ref is created only after the one commit
exists (``update-ref`` with an all-zero old value, so it never overwrites a branch), which makes
the result all-or-nothing even when the process is killed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from codeassist.errors import GitError
from codeassist.refactor.models import FileDiff, FileStatus

log = logging.getLogger(__name__)

WORKTREES_DIR = "codeassist-worktrees"
TRAILER = "Created-by: codeassist refactor"
_ZERO = "0" * 40
_FALLBACK_IDENTITY = {
    "GIT_AUTHOR_NAME": "codeassist", "GIT_AUTHOR_EMAIL": "codeassist@localhost",
    "GIT_COMMITTER_NAME": "codeassist", "GIT_COMMITTER_EMAIL": "codeassist@localhost",
}
_STATUS: dict[str, FileStatus] = {"A": "created", "D": "deleted", "M": "modified", "T": "modified"}

try:
    import git
    from git.exc import GitCommandError, InvalidGitRepositoryError, NoSuchPathError
except ImportError as exc:  # GitPython raises ImportError when no git executable is found
    _IMPORT_ERROR: ImportError | None = exc
else:
    _IMPORT_ERROR = None


def _fail(action: str, exc: Exception, hint: str | None = None) -> GitError:
    detail = getattr(exc, "stderr", "") or str(exc)
    detail = " ".join(str(detail).replace("stderr:", "").split()).strip(" '")
    return GitError(f"git could not {action}: {detail}", hint=hint)


@dataclass(frozen=True)
class WorktreeInfo:
    path: Path
    head: str
    branch: str | None  # short name, None when detached


class Worktree:
    """A codeassist worktree: edits, staging, diffs and the commit happen here, never elsewhere."""

    def __init__(self, repo: git.Repo, path: Path, owner: GitRepo) -> None:
        self._repo = repo
        self.path = path
        self._owner = owner

    def stage(self, paths: Iterable[str]) -> None:
        listed = sorted(set(paths))
        if listed:
            self._run("stage the edited files", "add", "--all", "--", *listed)

    def staged_diffs(self, base: str) -> tuple[list[FileDiff], str]:
        """Per-file diffs of the staged changes against ``base`` and the diffstat."""
        args = ("--cached", "--no-color", "--no-ext-diff", "--no-renames")
        names = self._run("list the changes", "diff", *args, "--name-status", base)
        numstat = self._run("count the changes", "diff", *args, "--numstat", base)
        counts: dict[str, tuple[int, int]] = {}
        for line in numstat.splitlines():
            plus, minus, path = line.split("\t", 2)
            counts[path] = (int(plus) if plus.isdigit() else 0, int(minus) if minus.isdigit() else 0)
        diffs: list[FileDiff] = []
        for line in names.splitlines():
            code, path = line.split("\t", 1)
            patch = self._run("diff a file", "diff", *args, base, "--", path)
            added, removed = counts.get(path, (0, 0))
            diffs.append(FileDiff(path, _STATUS.get(code[:1], "modified"), patch, added, removed))
        stat = self._run("summarise the changes", "diff", *args, "--stat", base)
        return diffs, stat

    def commit(self, message: str) -> str:
        env = {} if self._owner.has_identity() else _FALLBACK_IDENTITY
        with self._repo.git.custom_environment(**env):
            self._run("commit the refactor", "commit", "--quiet", "--no-verify", "-m", message)
        return self._run("read the new commit", "rev-parse", "HEAD").strip()

    def files_containing(self, word: str) -> list[str]:
        """Tracked files of the worktree (as edited) holding ``word`` as a whole word."""
        try:
            out: str = self._repo.git.execute(
                ["git", "grep", "-l", "-I", "-w", "-F", "-z", "-e", word], strip_newline_in_stdout=False)
        except GitCommandError as exc:
            if exc.status == 1:  # no match
                return []
            raise _fail("search the worktree", exc) from exc
        return [p for p in out.split("\0") if p]

    def close(self) -> None:
        self._repo.close()

    def checkout_branch(self, name: str) -> None:
        self._run("check out the branch in the kept worktree", "checkout", "--quiet", name)

    def _run(self, action: str, *args: str) -> str:
        try:
            out: str = self._repo.git.execute(["git", *args], strip_newline_in_stdout=False)
        except GitCommandError as exc:
            raise _fail(action, exc) from exc
        return out


class GitRepo:
    """The user's repository, used read-only except for refs/worktrees that codeassist creates."""

    def __init__(self, repo: git.Repo) -> None:
        self._repo = repo
        if repo.working_tree_dir is None:
            raise GitError("This is a bare git repository; a refactor needs a working tree.",
                           hint="Run codeassist refactor inside a normal clone.")
        self.root = Path(repo.working_tree_dir)
        self.common_dir = Path(repo.common_dir)

    @classmethod
    def open(cls, path: Path) -> GitRepo:
        if _IMPORT_ERROR is not None:
            raise GitError("git is not installed or not on PATH.", hint="Install git and try again.")
        try:
            return cls(git.Repo(path, search_parent_directories=True))
        except (InvalidGitRepositoryError, NoSuchPathError) as exc:
            raise GitError(f"{path} is not inside a git repository.",
                           hint="Refactors land on a new git branch: run `git init` and commit "
                                "first.") from exc

    # -- reading --------------------------------------------------------------------------
    def resolve_commit(self, rev: str) -> str:
        try:
            return self._git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").strip()
        except GitCommandError as exc:
            raise GitError(f"`{rev}` is not a commit of this repository.",
                           hint="Pass --base with a branch, tag or commit id (default HEAD; the "
                                "repository needs at least one commit).") from exc

    def current_branch(self) -> str | None:
        try:
            return self._git("symbolic-ref", "--quiet", "--short", "HEAD").strip() or None
        except GitCommandError:
            return None

    def branch_exists(self, name: str) -> bool:
        try:
            self._git("show-ref", "--verify", "--quiet", f"refs/heads/{name}")
        except GitCommandError:
            return False
        return True

    def check_branch_name(self, name: str) -> None:
        try:
            self._git("check-ref-format", "--branch", name)
        except GitCommandError as exc:
            raise GitError(f"`{name}` is not a valid branch name.",
                           hint="Use letters, digits, '-', '_', '.' and '/' "
                                "(e.g. refactor/rename-store).") from exc

    def read_text(self, rev: str, path: str) -> str | None:
        """The text of ``path`` at ``rev``; None when missing, binary or not UTF-8."""
        try:
            data = self._repo.git.execute(["git", "cat-file", "blob", f"{rev}:{path}"],
                                          stdout_as_string=False, strip_newline_in_stdout=False)
        except GitCommandError:
            return None
        if not isinstance(data, bytes) or b"\x00" in data[:8192]:
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def ignored(self, paths: Iterable[str]) -> set[str]:
        """Which of ``paths`` (repo-relative) git ignores (``.gitignore``, ``info/exclude``...)."""
        wanted = list(paths)
        if not wanted:
            return set()
        try:
            out = self._repo.git.execute(["git", "check-ignore", "--", *wanted], with_extended_output=True)
        except GitCommandError as exc:
            if exc.status != 1:  # 1: none of them is ignored
                log.info("git check-ignore failed: %s", exc.stderr)
            return set()
        return {p for p in str(out[1]).splitlines() if p}

    def files_at(self, rev: str) -> list[str]:
        try:
            out = self._git("ls-tree", "-r", "--name-only", "-z", rev)
        except GitCommandError as exc:
            raise _fail(f"list the files of {rev}", exc) from exc
        return [p for p in out.split("\0") if p]

    def has_identity(self) -> bool:
        try:
            return bool(self._git("config", "--get", "user.email").strip())
        except GitCommandError:
            return False

    def tip_message(self, branch: str) -> str:
        try:
            return self._git("log", "-1", "--format=%B", f"refs/heads/{branch}")
        except GitCommandError as exc:
            raise _fail(f"read branch {branch}", exc) from exc

    def worktrees(self) -> list[WorktreeInfo]:
        out = self._git("worktree", "list", "--porcelain")
        found: list[WorktreeInfo] = []
        for block in out.strip().split("\n\n"):
            fields = dict(_field(line) for line in block.splitlines())
            if "worktree" in fields:
                ref = fields.get("branch", "")
                branch = ref.removeprefix("refs/heads/") if ref else None
                found.append(WorktreeInfo(Path(fields["worktree"]), fields.get("HEAD", ""), branch))
        return found

    # -- worktrees and refs ---------------------------------------------------------------
    @property
    def worktrees_dir(self) -> Path:
        return self.common_dir / WORKTREES_DIR

    def add_worktree(self, commit: str) -> Worktree:
        """A detached worktree of ``commit``; no hooks run (``--no-checkout`` then ``reset``)."""
        self.prune_stale()
        self.worktrees_dir.mkdir(parents=True, exist_ok=True)
        name = secrets.token_hex(4)
        path = self.worktrees_dir / name
        (self.worktrees_dir / f"{name}.pid").write_text(str(os.getpid()), encoding="ascii")
        try:
            self._git("worktree", "add", "--no-checkout", "--detach", str(path), commit)
        except GitCommandError as exc:
            self.remove_worktree(path)
            raise _fail("create a worktree", exc) from exc
        wt = Worktree(git.Repo(path), path, self)
        try:
            wt._run("check out the base commit", "reset", "--hard", "--quiet", commit)
        except GitError:
            wt.close()
            self.remove_worktree(path)
            raise
        return wt

    def remove_worktree(self, path: Path) -> None:
        with contextlib.suppress(GitCommandError):
            self._git("worktree", "remove", "--force", "--force", str(path))
        if path.exists():
            shutil.rmtree(path, ignore_errors=True)
        admin = self.common_dir / "worktrees" / path.name
        gitdir = admin / "gitdir"
        if gitdir.is_file() and Path(gitdir.read_text(encoding="utf-8").strip()).parent == path:
            shutil.rmtree(admin, ignore_errors=True)  # only our own entry; never a global prune
        (path.parent / f"{path.name}.pid").unlink(missing_ok=True)

    def prune_stale(self) -> None:
        """Remove worktrees left by a killed run (their process is gone and no branch is on them)."""
        if not self.worktrees_dir.is_dir():
            return
        for pid_file in self.worktrees_dir.glob("*.pid"):
            if not _alive(pid_file):
                log.info("removing a stale refactor worktree %s", pid_file.stem)
                self.remove_worktree(self.worktrees_dir / pid_file.stem)

    def release(self, path: Path) -> None:
        """Keep the worktree but mark it as no longer owned by a running process."""
        (path.parent / f"{path.name}.pid").unlink(missing_ok=True)

    def create_branch(self, name: str, commit: str) -> None:
        try:
            self._git("update-ref", "-m", "codeassist refactor", f"refs/heads/{name}", commit, _ZERO)
        except GitCommandError as exc:
            raise _fail(f"create branch {name}", exc, hint="Pick another name with --branch.") from exc

    def delete_branch(self, name: str) -> None:
        try:
            self._git("branch", "--delete", "--force", name)
        except GitCommandError as exc:
            raise _fail(f"delete branch {name}", exc) from exc

    def _git(self, *args: str) -> str:
        out: str = self._repo.git.execute(["git", *args])
        return out


def _field(line: str) -> tuple[str, str]:
    key, _, value = line.partition(" ")
    return key, value


def _alive(pid_file: Path) -> bool:
    try:
        pid = int(pid_file.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def worktree_for(repo: GitRepo, commit: str, *, keep: bool) -> Iterator[Worktree]:
    """A fresh worktree of ``commit``, removed afterwards unless ``keep``."""
    wt = repo.add_worktree(commit)
    try:
        yield wt
    finally:
        wt.close()
        if keep:
            repo.release(wt.path)
        else:
            repo.remove_worktree(wt.path)
