"""`codeassist refactor`: plan a multi-file refactor with Claude and land it on a new branch."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import click

from codeassist.app import Application
from codeassist.cli._common import app, fail
from codeassist.config import Settings
from codeassist.errors import Cancelled, RefactorError
from codeassist.refactor import CostEstimate, FileDiff, Plan, Progress, RefactorOptions, RefactorReport

log = logging.getLogger(__name__)


class CliObserver:
    """Progress on stderr; plan, diffs and questions on the terminal."""

    def __init__(self, *, show_diffs: bool) -> None:
        self.show_diffs = show_diffs

    def progress(self, event: Progress) -> None:
        click.echo(f"· {event.phase}: {event.message}", err=True)

    def plan_ready(self, plan: Plan, estimate: CostEstimate) -> None:
        click.secho("Plan", bold=True)
        click.echo(plan.render())
        click.echo("")
        click.echo(_estimate_line(estimate))

    def confirm_plan(self, plan: Plan, estimate: CostEstimate) -> bool:
        return click.confirm("Apply this plan in a new worktree?", default=True)

    def review(self, diffs: Sequence[FileDiff]) -> bool:
        click.secho("\nChanges (validated)", bold=True)
        for diff in diffs:
            click.echo(f"  {diff.status:9} {diff.path}  +{diff.added} -{diff.removed}")
        if self.show_diffs or click.confirm("Show the diffs?", default=False):
            for diff in diffs:
                click.echo(_color_diff(diff.diff))
        return click.confirm("Commit these changes on the new branch?", default=True)


def _estimate_line(estimate: CostEstimate) -> str:
    if estimate.local:
        return f"Estimate: {estimate.input_tokens} prompt tokens on the local model {estimate.model} (free)."
    return (f"Estimate: {estimate.input_tokens} prompt tokens on {estimate.model}; plan up to "
            f"${estimate.usd_plan:.4f}, whole refactor about ${estimate.usd_total:.4f} "
            f"({estimate.edit_turns} edit turns assumed).")


def _color_diff(patch: str) -> str:
    out = []
    for line in patch.splitlines():
        if line.startswith("+") and not line.startswith("+++"):
            out.append(click.style(line, fg="green"))
        elif line.startswith("-") and not line.startswith("---"):
            out.append(click.style(line, fg="red"))
        else:
            out.append(line)
    return "\n".join(out)


def print_report(report: RefactorReport) -> None:
    u = report.usage
    click.echo("")
    if report.status == "committed":
        click.secho(f"Committed on branch {report.branch}", fg="green", bold=True)
        click.echo(f"commits: {', '.join(c[:12] for c in report.commits)} (base {report.base[:12]})")
        click.echo(report.diffstat.rstrip())
    else:
        click.secho(f"Nothing committed ({report.status}). {report.reason}", bold=True)
        for failure in report.failures:
            click.echo(f"  - {failure}")
    for note in report.notes:
        click.echo(f"note: {note.path}:{note.line}: {note.message}")
    if report.repair_rounds:
        click.echo(f"repair rounds: {report.repair_rounds}")
    click.echo(f"tokens: {u.input_tokens} input, {u.output_tokens} output, {u.cache_read_tokens} cache read, "
               f"{u.cache_write_tokens} cache write in {u.calls} calls; cost ${u.cost_usd:.4f}"
               + (f" ({report.model})" if report.model else ""))
    if report.worktree is not None:
        click.echo(f"worktree kept at {report.worktree}")
    if report.status == "committed":
        click.echo(f"review: git log -p {report.base[:12]}..{report.branch}   "
                   f"undo: codeassist refactor --undo {report.branch}")


@click.command()
@click.argument("instruction", required=False)
@click.option("--branch", metavar="NAME", help="Branch to create (default codeassist/<slug>-<time>).")
@click.option("--base", default="HEAD", show_default=True, metavar="REV", help="Commit to start from.")
@click.option("--files", "files", multiple=True, metavar="PATH",
              help="File to put in the context (repeatable; commas separate several).")
@click.option("--dry-run", is_flag=True, help="Stop after the plan and the cost estimate.")
@click.option("--yes", "-y", is_flag=True, help="No plan confirmation and no diff review.")
@click.option("--max-cost", type=float, metavar="USD", help="Refuse when the estimate is above this.")
@click.option("--model", metavar="ID",
              help="Claude model id (default: claude.model, else the newest Sonnet).")
@click.option("--local", is_flag=True, help="Use the local llama-server's /v1/messages instead of Claude.")
@click.option("--offline", is_flag=True, help="Refuse every cloud call (privacy.cloud = false).")
@click.option("--test-cmd", metavar="CMD", help="Shell command run in the worktree; must pass.")
@click.option("--keep-worktree", is_flag=True, help="Keep the worktree (under .git/codeassist-worktrees).")
@click.option("--show-diffs", is_flag=True, help="Print the diffs at review without asking.")
@click.option("--show-request", is_flag=True,
              help="Print the exact (redacted) first request Claude would get, and send nothing.")
@click.option("--undo", "undo_branch", metavar="BRANCH", help="Delete a branch made by codeassist refactor.")
@click.pass_context
def refactor(ctx: click.Context, instruction: str | None, branch: str | None, base: str,
             files: tuple[str, ...], dry_run: bool, yes: bool, max_cost: float | None, model: str | None,
             local: bool, offline: bool, test_cmd: str | None, keep_worktree: bool, show_diffs: bool,
             show_request: bool, undo_branch: str | None) -> None:
    """Plan a multi-file refactor and land it on a new git branch.

    Your current branch, index and working tree (uncommitted changes included) are never
    touched: the edits happen in a separate worktree and are committed, all or nothing, on a
    new branch. Example: codeassist refactor "Rename Store.fetch to Store.load" --test-cmd "pytest -q"
    """
    a = app(ctx)
    if undo_branch is not None:
        _undo(a.repo, undo_branch, instruction)
        return
    if not instruction or not instruction.strip():
        fail("Say what to refactor, e.g. codeassist refactor \"Rename Store.fetch to Store.load\".",
             hint="Or remove a refactor branch with --undo BRANCH.")
    if max_cost is not None and max_cost < 0:
        fail("--max-cost must be zero or more (US dollars).")
    settings = a.settings(claude__model=model, privacy__cloud=False if offline else None)
    options = RefactorOptions(
        branch=branch, base=base, files=_split(files), dry_run=dry_run, yes=yes, max_cost=max_cost,
        local=local, test_cmd=test_cmd, keep_worktree=keep_worktree,
    )
    report = run_refactor(a.repo, settings, instruction, options, CliObserver(show_diffs=show_diffs),
                          show_request=click.echo if show_request else None)
    print_report(report)
    if report.status == "declined":
        raise Cancelled(report.reason)
    if report.status in ("failed", "no_changes"):
        raise RefactorError(f"The refactor was not applied: {report.reason}",
                            hint="Your checkout is unchanged. Rephrase or narrow the instruction and "
                                 "try again.")


def run_refactor(repo: Path, settings: Settings, instruction: str, options: RefactorOptions,
                 observer: CliObserver, show_request: Callable[[str], None] | None = None) -> RefactorReport:
    application = Application(settings, repo)
    if options.local and not settings.server.url:
        click.echo("· local: starting the local llama-server.", err=True)
    try:
        return application.run_refactor(instruction, options, observer, show_request=show_request)
    finally:
        application.close()


def _undo(repo: Path, branch: str, instruction: str | None) -> None:
    from codeassist.refactor import undo as undo_module

    if instruction:
        fail("--undo takes no instruction.", hint=f"Run: codeassist refactor --undo {branch}")
    result = undo_module.undo(repo, branch)
    click.echo(f"Deleted branch {result.branch} (was {result.commit[:12]}).")
    if result.worktree is not None:
        click.echo(f"Removed its worktree {result.worktree}.")


def _split(files: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for item in files:
        out += [p.strip().replace("\\", "/").removeprefix("./") for p in item.split(",") if p.strip()]
    return tuple(out)
