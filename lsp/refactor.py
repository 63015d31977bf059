"""The "Refactor with Claude…" command: the refactor planner, followed in the editor.

The instruction is the comment or selection the code action was offered on. The planner runs in a
worker thread; its progress becomes ``$/progress`` (work-done progress), its plan is confirmed with
``window/showMessageRequest``, and the result — a new branch, never the user's working tree — is
shown as a message and returned: ``{"status", "branch", "summary", "diffstat", "reason"}``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from codeassist.errors import Cancelled, CodeassistError
from codeassist.refactor import CostEstimate, FileDiff, Plan, Progress, RefactorOptions, RefactorReport

if TYPE_CHECKING:
    from codeassist_lsp.server import CodeassistServer

__all__ = ["APPLY", "LspObserver", "run_refactor"]

log = logging.getLogger(__name__)
APPLY = "Apply on a new branch"
TITLE = "Refactor with Claude"
CONFIRM_TIMEOUT_S = 900  # an unanswered plan question declines the refactor


class LspObserver:
    """A :class:`~codeassist.refactor.RefactorObserver` called on the runner's thread."""

    def __init__(self, ls: CodeassistServer, loop: asyncio.AbstractEventLoop, token: str | None) -> None:
        self._ls = ls
        self._loop = loop
        self._token = token

    def progress(self, event: Progress) -> None:
        if self._token is not None:
            report = types.WorkDoneProgressReport(message=f"{event.phase}: {event.message}")
            self._loop.call_soon_threadsafe(self._ls.work_done_progress.report, self._token, report)

    def plan_ready(self, plan: Plan, estimate: CostEstimate) -> None:
        log.info("refactor plan: %s (estimate $%.2f)", plan.summary, estimate.usd_total)

    def confirm_plan(self, plan: Plan, estimate: CostEstimate) -> bool:
        cost = "free (local)" if estimate.local else f"about ${estimate.usd_total:.2f}"
        params = types.ShowMessageRequestParams(
            type=types.MessageType.Info,
            message=f"Claude's plan ({cost}, {estimate.model}):\n{plan.render()}",
            actions=[types.MessageActionItem(title=APPLY), types.MessageActionItem(title="Cancel")])
        asking = asyncio.run_coroutine_threadsafe(self._ls.window_show_message_request_async(params),
                                                  self._loop)
        try:
            answer = asking.result(timeout=CONFIRM_TIMEOUT_S)
        except TimeoutError:  # nobody answered: nothing is applied
            asking.cancel()
            log.info("the refactor plan was not confirmed within %d s", CONFIRM_TIMEOUT_S)
            return False
        return answer is not None and answer.title == APPLY

    def review(self, diffs: Sequence[FileDiff]) -> bool:
        return True  # the result is a branch of its own: reviewed there, never in the working tree


async def run_refactor(ls: CodeassistServer, instruction: str) -> dict[str, Any]:
    """Run the planner for ``instruction`` and report the outcome to the editor."""
    if ls.root is None:
        return _finish(ls, None, "failed", reason="Open a folder inside a git repository to refactor it.")
    token = await _begin(ls, instruction)
    observer = LspObserver(ls, asyncio.get_running_loop(), token)
    backend = ls.require_backend()
    index = await backend.index()
    try:
        report = await asyncio.to_thread(backend.app.run_refactor, instruction, RefactorOptions(), observer,
                                         command="lsp", index=index)
    except Cancelled as exc:  # stopped: a cancellation, not a failure
        return _finish(ls, token, "cancelled", reason=str(exc))
    except CodeassistError as exc:
        return _finish(ls, token, "failed", reason=str(exc))
    except Exception as exc:  # a bug or an unexpected library error: end the progress, say so, stay up
        log.exception("the refactor failed unexpectedly")
        return _finish(ls, token, "failed", reason=f"unexpected error ({type(exc).__name__}: {exc}); "
                       "the language server log has the details.")
    return _finish(ls, token, report.status, report=report)


async def _begin(ls: CodeassistServer, instruction: str) -> str | None:
    window = ls.client_capabilities.window
    if not (window and window.work_done_progress):
        return None
    token = f"codeassist-refactor-{uuid.uuid4().hex[:8]}"
    await ls.work_done_progress.create_async(token)
    ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(
        title=TITLE, message=instruction, cancellable=False))
    return token


def _finish(ls: CodeassistServer, token: str | None, status: str, *, report: RefactorReport | None = None,
            reason: str = "") -> dict[str, Any]:
    branch = report.branch if report is not None else None
    summary = report.plan.summary if report is not None and report.plan is not None else ""
    reason = reason or (report.reason if report is not None else "")
    if status == "committed":
        message = f"codeassist: the refactor is on branch {branch}: {summary} ({report.diffstat.strip()})" \
            if report is not None else ""
        level = types.MessageType.Info
    else:
        message = f"codeassist: the refactor was not applied ({status}): {reason} Your checkout is unchanged."
        level = (types.MessageType.Warning if status in ("declined", "cancelled", "no_changes")
                 else types.MessageType.Error)
    if token is not None:
        ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message=message))
    ls.window_show_message(types.ShowMessageParams(type=level, message=message))
    return {"status": status, "branch": branch, "summary": summary,
            "diffstat": report.diffstat if report is not None else "", "reason": reason}
