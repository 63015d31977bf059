"""Multi-file refactors planned and written by Claude, landed on a new git branch.

See ``docs/refactor.md``. Public API::

    report = RefactorRunner(repo, settings, client, index).run(instruction, options, observer)
    codeassist.refactor.undo.undo(repo, branch)    # --undo BRANCH

``observer`` implements :class:`RefactorObserver` (plan shown/confirmed, progress, diff review).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from codeassist.claude.datatypes import CostEstimate, Usage
from codeassist.refactor.models import (
    AcceptAll,
    EditNote,
    FileDiff,
    Plan,
    PlanStep,
    Progress,
    RefactorObserver,
    RefactorOptions,
    RefactorReport,
)

if TYPE_CHECKING:
    from codeassist.refactor.runner import RefactorRunner

_LAZY = {"RefactorRunner": "runner"}


def __getattr__(name: str) -> Any:
    """The runner (and with it the Claude SDK) is imported only when used."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"codeassist.refactor.{_LAZY[name]}"), name)
    raise AttributeError(name)

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
    "Usage",
]
