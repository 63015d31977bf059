"""Value objects of a refactor: options, plan, per-file diffs and the final report (its cost
estimate and token usage are the Claude package's :class:`CostEstimate` and :class:`Usage`).

The observer protocol that the CLI and the TUI implement lives here too, so that a surface needs
to import only this module (and :class:`~codeassist.refactor.runner.RefactorRunner`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from codeassist.claude.datatypes import CostEstimate, Usage

Phase = Literal["context", "estimate", "plan", "worktree", "edit", "validate", "repair", "commit", "cleanup"]
Status = Literal["committed", "dry_run", "declined", "failed", "no_changes"]
FileStatus = Literal["modified", "created", "deleted"]


@dataclass(frozen=True)
class RefactorOptions:
    """What the user asked for on the command line (or in the TUI).

    The model is not an option here: it is the client's (``claude.model`` in its settings, else
    the newest Sonnet the API lists).
    """

    branch: str | None = None  # None: codeassist/refactor-<slug>-<time>
    base: str = "HEAD"
    files: tuple[str, ...] = ()
    dry_run: bool = False
    yes: bool = False  # skip plan confirmation and diff review
    max_cost: float | None = None  # USD; None: settings.claude.max_cost
    local: bool = False  # the local llama-server's /v1/messages instead of Claude
    test_cmd: str | None = None
    keep_worktree: bool = False
    max_repair_rounds: int = 3
    max_tool_turns: int = 40  # model turns per edit round


@dataclass(frozen=True)
class PlanStep:
    description: str
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    """Claude's plan: what it will change and why. Shown before any edit unless ``--yes``."""

    summary: str
    steps: tuple[PlanStep, ...] = ()
    change: tuple[str, ...] = ()
    create: tuple[str, ...] = ()
    delete: tuple[str, ...] = ()
    rationale: str = ""

    def render(self) -> str:
        lines = [self.summary.strip() or "(no summary)", ""]
        for number, step in enumerate(self.steps, 1):
            where = f"  [{', '.join(step.files)}]" if step.files else ""
            lines.append(f"{number}. {step.description}{where}")
        for label, paths in (("change", self.change), ("create", self.create), ("delete", self.delete)):
            if paths:
                lines.append(f"{label}: {', '.join(paths)}")
        if self.rationale.strip():
            lines += ["", f"why: {self.rationale.strip()}"]
        return "\n".join(lines)


@dataclass(frozen=True)
class Progress:
    phase: Phase
    message: str


@dataclass(frozen=True)
class FileDiff:
    path: str
    status: FileStatus
    diff: str  # unified diff, repo-relative a/ b/ paths
    added: int
    removed: int


@dataclass(frozen=True)
class EditNote:
    """Something the user should know about one applied edit (e.g. a whitespace-tolerant match)."""

    path: str
    line: int  # 1-based
    message: str


@dataclass
class RefactorReport:
    """What happened. ``status == "committed"`` is the only case in which a branch exists."""

    status: Status
    instruction: str
    base: str  # the resolved base commit
    branch: str | None = None
    commits: list[str] = field(default_factory=list)
    diffstat: str = ""
    files: list[FileDiff] = field(default_factory=list)
    plan: Plan | None = None
    estimate: CostEstimate | None = None
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    repair_rounds: int = 0
    notes: list[EditNote] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # validation failures left at the end
    reason: str = ""  # one sentence: why it stopped (failed/declined/no_changes)
    worktree: Path | None = None  # kept only with --keep-worktree


class RefactorObserver(Protocol):
    """How a surface follows and steers a refactor. Every method is called on the runner's thread.

    The runner never prints; it tells the observer. ``confirm_plan`` and ``review`` are skipped
    when the options say ``yes``.
    """

    def progress(self, event: Progress) -> None:
        """A phase started or advanced (one line of text for a status bar or a log)."""

    def plan_ready(self, plan: Plan, estimate: CostEstimate) -> None:
        """The plan and the cost estimate, always shown (also with ``--yes`` and ``--dry-run``)."""

    def confirm_plan(self, plan: Plan, estimate: CostEstimate) -> bool:
        """Return True to apply the plan, False to stop (the report says ``declined``)."""

    def review(self, diffs: Sequence[FileDiff]) -> bool:
        """The validated per-file diffs, before the commit. True commits, False discards."""


class AcceptAll:
    """An observer that shows nothing and accepts everything (``--yes`` and scripts)."""

    def __init__(self) -> None:
        self.events: list[Progress] = []

    def progress(self, event: Progress) -> None:
        self.events.append(event)

    def plan_ready(self, plan: Plan, estimate: CostEstimate) -> None:
        return None

    def confirm_plan(self, plan: Plan, estimate: CostEstimate) -> bool:
        return True

    def review(self, diffs: Sequence[FileDiff]) -> bool:
        return True
