"""The refactor flow: context → estimate → plan → worktree → edits → validation/repair → commit.

``RefactorRunner(repo, settings, client, index).run(instruction, options, observer)`` returns a
:class:`~codeassist.refactor.models.RefactorReport`. The user's checkout is never touched: all
edits happen in a detached worktree, the branch appears only once its single commit exists.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path

from codeassist.claude import pricing
from codeassist.claude.client import ClaudeClient
from codeassist.claude.datatypes import CostEstimate, Prompt
from codeassist.config import Settings
from codeassist.errors import Cancelled, CostLimitError, GitError, UsageError
from codeassist.refactor import planner
from codeassist.refactor.context import Budget, Context, IndexLike, gather
from codeassist.refactor.editor_tool import EditorTool, tool_definitions
from codeassist.refactor.gitops import TRAILER, GitRepo, Worktree, worktree_for
from codeassist.refactor.models import (
    Plan,
    Progress,
    RefactorObserver,
    RefactorOptions,
    RefactorReport,
)
from codeassist.refactor.session import Conversation
from codeassist.refactor.validate import validate

log = logging.getLogger(__name__)

# Whole-run estimate: the edit phase is assumed to take this many turns, each reading the stable
# prefix from the cache and writing this many output tokens.
EDIT_TURNS_ESTIMATE = 8
OUTPUT_PER_TURN_ESTIMATE = 2_000


def default_branch_name(instruction: str, now: float | None = None) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", instruction.lower()).strip("-")[:40].rstrip("-") or "change"
    return f"codeassist/{slug}-{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}"


class RefactorRunner:
    def __init__(self, repo: Path, settings: Settings, client: ClaudeClient, index: IndexLike | None) -> None:
        self.git = GitRepo.open(repo)
        self.settings = settings
        self.client = client
        self.index = index
        self._cancel = threading.Event()

    def run(self, instruction: str, options: RefactorOptions, observer: RefactorObserver,
            cancel: threading.Event | None = None) -> RefactorReport:
        """The whole refactor. Setting ``cancel`` stops it at the next stream event, tool call or
        phase (raising :class:`~codeassist.errors.Cancelled`); nothing is committed then."""
        self._cancel = cancel or threading.Event()
        self.client.new_budget()  # claude.max_cost / --max-cost limit this refactor alone
        if not instruction.strip():
            raise UsageError("The refactor instruction is empty.", hint='Say what to change, e.g. '
                             'codeassist refactor "Rename Store.fetch to Store.load".')
        base = self.git.resolve_commit(options.base)
        branch = options.branch or default_branch_name(instruction)
        self.git.check_branch_name(branch)
        if self.git.branch_exists(branch):
            raise GitError(f"Branch `{branch}` already exists; a refactor never reuses a branch.",
                           hint=f"Pick another --branch, or remove it (codeassist refactor --undo {branch}).")
        report = RefactorReport(status="failed", instruction=instruction, base=base)
        observer.progress(Progress("context", "Gathering context (files, identifiers, repo map)."))
        ctx = self._context(instruction, options, base)
        conv = Conversation(self.client, planner.SYSTEM, planner.context_text(ctx), self._tools(options))
        conv.should_stop = self._cancel.is_set
        conv.files.update({path: len(text) for path, text in ctx.files.items()})
        conv.messages.append({"role": "user", "content": planner.plan_request(instruction)})
        estimate = self._estimate(conv.prompt(), options)
        conv.messages.clear()
        report.estimate = estimate
        observer.progress(Progress("estimate", f"{estimate.input_tokens} prompt tokens; about "
                                               f"${estimate.usd_total:.4f} for the whole refactor."))
        observer.progress(Progress("plan", f"Asking {estimate.model} for a plan."))
        plan = conv.ask_plan(planner.plan_request(instruction), self._plan_tokens)
        report.plan, report.usage, report.model = plan, conv.usage, conv.model
        observer.plan_ready(plan, estimate)
        if options.dry_run:
            report.status, report.reason = "dry_run", "Dry run: stopped after the plan and the estimate."
            return report
        if not options.yes and not observer.confirm_plan(plan, estimate):
            report.status, report.reason = "declined", "The plan was declined; nothing was changed."
            return report
        self._check_cancel()
        observer.progress(Progress("worktree", f"Creating a worktree of {base[:12]}."))
        with worktree_for(self.git, base, keep=options.keep_worktree) as wt:
            if options.keep_worktree:
                report.worktree = wt.path
            touched = self._apply(conv, wt, plan, options, observer, report)
            report.model = conv.model or report.model
            self._check_cancel()
            if report.status == "committed":
                self._commit(wt, touched, branch, plan, instruction, options, observer, report)
        return report

    def _check_cancel(self) -> None:
        if self._cancel.is_set():
            raise Cancelled("The refactor was stopped; nothing was committed.")

    @property
    def _plan_tokens(self) -> int:
        return min(planner.PLAN_MAX_TOKENS, self.settings.claude.max_tokens)

    # -- phases -----------------------------------------------------------------------------
    def _context(self, instruction: str, options: RefactorOptions, base: str) -> Context:
        budget = Budget(map_tokens=self.settings.index.map_tokens)
        return gather(instruction, options.files, self.git.files_at(base),
                      lambda p: self.git.read_text(base, p), self._may_send, self.index, budget)

    def _may_send(self, path: str) -> bool:
        """Not a secret file, and not a link leaving the repository (its blob names the target)."""
        from codeassist.privacy.sources import refusal

        return refusal(self.client.guard, self.git.root, path, named=True) is None

    def _tools(self, options: RefactorOptions) -> list[dict[str, object]]:
        return [planner.plan_tool(), *tool_definitions(60_000, schema=options.local)]

    def _estimate(self, prompt: Prompt, options: RefactorOptions) -> CostEstimate:
        one = self.client.estimate(prompt, max_tokens=self._plan_tokens)
        price = pricing.price_for(one.model, local=options.local)
        edits = EDIT_TURNS_ESTIMATE * (
            one.input_tokens * price.cache_read + OUTPUT_PER_TURN_ESTIMATE * (price.output + price.input)
        ) / 1_000_000
        estimate = CostEstimate(model=one.model, input_tokens=one.input_tokens,
                                max_output_tokens=one.max_output_tokens, usd_plan=one.usd_plan,
                                usd_total=one.usd_plan + edits, edit_turns=EDIT_TURNS_ESTIMATE,
                                local=options.local)
        limit = self.client.max_cost if options.max_cost is None else options.max_cost
        if not options.local and estimate.usd_total > limit:
            raise CostLimitError(
                f"This refactor is estimated at ${estimate.usd_total:.2f} ({estimate.input_tokens} prompt "
                f"tokens on {estimate.model}: plan up to ${estimate.usd_plan:.2f}, then about "
                f"{EDIT_TURNS_ESTIMATE} edit turns), above the limit of ${limit:.2f}. Nothing was sent.",
                hint="Raise --max-cost (or claude.max_cost), or narrow the context with --files.",
            )
        return estimate

    def _apply(self, conv: Conversation, wt: Worktree, plan: Plan, options: RefactorOptions,
               observer: RefactorObserver, report: RefactorReport) -> list[str]:
        """Edits, validation and repair rounds; sets ``report.status`` to committed when valid."""
        editor = EditorTool(wt.path, self.client.guard.allowed)
        conv.approve_plan(planner.edit_request(plan))
        observer.progress(Progress("edit", "Editing in the worktree."))
        conv.edit_loop(editor, options.max_tool_turns, observer.progress)
        for round_number in range(options.max_repair_rounds + 1):
            if not editor.touched:
                report.status = "no_changes"
                report.reason = "The model made no changes; nothing was committed."
                break
            self._check_cancel()
            observer.progress(Progress("validate", "Validating the edited files."))
            result = validate(wt.path, editor.touched, lambda p: self.git.read_text(report.base, p),
                              wt.files_containing, options.test_cmd)
            report.failures = result.failures
            if result.ok:
                report.status = "committed"  # provisional: the commit follows
                break
            if round_number == options.max_repair_rounds:
                report.reason = (f"Validation still failed after {options.max_repair_rounds} repair rounds; "
                                 "nothing was committed.")
                break
            report.repair_rounds = round_number + 1
            observer.progress(Progress("repair", f"Repair round {round_number + 1}: "
                                                 f"{len(result.failures)} problem(s) sent back."))
            conv.add_user_text(planner.repair_request(result.failures, round_number + 1,
                                                      options.max_repair_rounds))
            conv.edit_loop(editor, options.max_tool_turns, observer.progress)
        report.notes = list(editor.notes)
        report.usage = conv.usage
        return list(editor.touched)

    def _commit(self, wt: Worktree, touched: list[str], branch: str, plan: Plan, instruction: str,
                options: RefactorOptions,
                observer: RefactorObserver, report: RefactorReport) -> None:
        wt.stage(touched)
        diffs, stat = wt.staged_diffs(report.base)
        if not diffs:
            report.status, report.reason = "no_changes", "The edits cancel out; nothing was committed."
            return
        report.files, report.diffstat = diffs, stat
        if not options.yes and not observer.review(diffs):
            report.status = "declined"
            report.reason = "The changes were declined at review; nothing was committed."
            report.files = diffs
            return
        self._check_cancel()
        observer.progress(Progress("commit", f"Committing on {branch}."))
        sha = wt.commit(commit_message(instruction, plan))
        self.git.create_branch(branch, sha)
        if options.keep_worktree:
            wt.checkout_branch(branch)
        report.branch, report.commits = branch, [sha]


def commit_message(instruction: str, plan: Plan) -> str:
    first = " ".join(instruction.split())
    subject = first if len(first) <= 64 else first[:61].rstrip() + "..."
    lines = [f"refactor: {subject}", "", plan.summary]
    if plan.steps:
        lines += ["", *[f"- {step.description}" for step in plan.steps]]
    if subject != first:
        lines += ["", f"Instruction: {first}"]
    lines += ["", TRAILER]
    return "\n".join(lines) + "\n"
