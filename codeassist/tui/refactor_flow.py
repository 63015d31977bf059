"""``/refactor`` inside the TUI: the runner works on a thread; plan and diff review are modal screens."""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ParamSpec, Protocol, TypeVar

from textual.screen import ModalScreen, Screen
from textual.worker import get_current_worker

from codeassist.errors import Cancelled
from codeassist.refactor import CostEstimate, FileDiff, Plan, Progress, RefactorReport
from codeassist.tui.screens import DiffReviewScreen, PlanScreen
from codeassist.tui.widgets import AssistantMessage, StatusLine

__all__ = ["RefactorSurface", "TuiRefactorObserver", "report_text"]

P = ParamSpec("P")
T = TypeVar("T")
_POLL_S = 0.2


class RefactorSurface(Protocol):
    """What the refactor flow needs from the Textual app (so that neither imports the other)."""

    status: StatusLine

    @property
    def screen(self) -> Screen[Any]: ...
    def from_thread(self, fn: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T: ...
    def call_from_thread(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...
    def push_screen(self, screen: Screen[Any], callback: Callable[[Any], None] | None = None) -> Any: ...


class TuiRefactorObserver:
    """The refactor observer of the TUI. Called on the runner's thread; talks to the app safely."""

    def __init__(self, app: RefactorSurface, block: AssistantMessage, stop: threading.Event) -> None:
        self.app = app
        self.block = block
        self.stop = stop
        self.steps: list[Progress] = []

    def progress(self, event: Progress) -> None:
        self.steps.append(event)
        self.app.from_thread(self.block.add_line, f"[{event.phase}] {event.message}", "stats")
        self.app.call_from_thread(setattr, self.app.status, "activity", f"refactor: {event.phase}…")

    def plan_ready(self, plan: Plan, estimate: CostEstimate) -> None:
        self.app.from_thread(self.block.add_line, "Plan: " + plan.summary.strip(), "notice")

    def confirm_plan(self, plan: Plan, estimate: CostEstimate) -> bool:
        return self._ask(PlanScreen(plan, estimate))

    def review(self, diffs: Sequence[FileDiff]) -> bool:
        return self._ask(DiffReviewScreen(diffs))

    def _ask(self, screen: ModalScreen[bool]) -> bool:
        """Show ``screen`` on the app's thread and wait here for its answer."""
        answer: concurrent.futures.Future[bool] = concurrent.futures.Future()

        def settle(result: bool | None) -> None:
            if not answer.done():
                answer.set_result(bool(result))

        if self.stop.is_set():
            raise Cancelled("The refactor was stopped; nothing was created.")
        self.app.call_from_thread(self.app.push_screen, screen, settle)
        worker = get_current_worker()
        while True:
            try:
                return answer.result(timeout=_POLL_S)
            except concurrent.futures.TimeoutError:
                if worker.is_cancelled or self.stop.is_set():
                    if not answer.done():  # take the question away: its answer no longer matters
                        self.app.call_from_thread(_dismiss_if_shown, self.app, screen)
                    raise Cancelled("The refactor was stopped; nothing was created.") from None


def _dismiss_if_shown(app: RefactorSurface, screen: ModalScreen[bool]) -> None:
    if app.screen is screen:
        screen.dismiss(False)


def report_text(report: RefactorReport) -> str:
    """The end of a refactor, as Markdown for the conversation."""
    lines = [f"**Refactor {report.status}**" + (f": {report.reason}" if report.reason else "")]
    if report.branch:
        lines.append(f"- branch `{report.branch}` ({', '.join(c[:10] for c in report.commits)})")
        lines.append(f"- review it with `git diff {report.base[:10]}..{report.branch}`; "
                     f"undo with `codeassist refactor --undo {report.branch}`")
    if report.diffstat:
        lines.append(f"\n```\n{report.diffstat.rstrip()}\n```")
    usage = report.usage
    lines.append(f"- {usage.input_tokens:,} input + {usage.output_tokens:,} output tokens "
                 f"({usage.cache_read_tokens:,} cache reads), ${usage.cost_usd:.4f}")
    lines += [f"- failure: {failure}" for failure in report.failures]
    return "\n".join(lines)
