"""Multi-file refactors planned and written by Claude, landed on a new git branch.

See ``docs/refactor.md``. Public API::

    report = RefactorRunner(repo, settings, client, index).run(instruction, options, observer)
    undo(repo, branch)

``observer`` implements :class:`RefactorObserver` (plan shown/confirmed, progress, diff review).
"""

from __future__ import annotations

from codeassist.refactor.models import (
    AcceptAll,
    CostEstimate,
    EditNote,
    FileDiff,
    Plan,
    PlanStep,
    Progress,
    RefactorObserver,
    RefactorOptions,
    RefactorReport,
    Usage,
)
from codeassist.refactor.runner import RefactorRunner
from codeassist.refactor.undo import UndoResult, undo

__all__ = [
    "AcceptAll",
    "CostEstimate",
    "EditNote",
    "FileDiff",
    "Plan",
    "PlanStep",
    "Progress",
    "RefactorObserver",
    "RefactorOptions",
    "RefactorReport",
    "RefactorRunner",
    "UndoResult",
    "Usage",
    "undo",
]
