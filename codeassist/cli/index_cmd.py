"""`codeassist index`, `codeassist map` and `codeassist symbols`: parse arguments, call the index, print."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from codeassist.cli._common import app
from codeassist.errors import UsageError
from codeassist.index import SKIP_REASONS, RepoIndex, ScanSummary
from codeassist.paths import find_repo_root

ProgressCallback = Callable[[int, int], None]


def _open(ctx: click.Context, path: str | None) -> RepoIndex:
    context = app(ctx)
    if path is not None:
        target = Path(path).expanduser()
        if not target.is_dir():
            raise UsageError(f"{path} is not a directory.", hint="Pass a repository directory to index.")
        # PATH's repository (its own .codeassist.toml applies), not -C's; a folder inside a git work
        # tree means that work tree: one index per repository, with the repository's ignore rules.
        root = find_repo_root(target)
        if root != target.resolve():
            click.echo(f"{path} is inside the repository {root}: indexing the repository.", err=True)
        return context.application(context.settings_for(root), root).require_index()
    return context.application(context.settings()).require_index()


@contextmanager
def _progress(enabled: bool) -> Iterator[ProgressCallback | None]:
    """A rich progress bar on stderr when it is a terminal; nothing otherwise."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("indexing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("index", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _scan(index: RepoIndex, show_progress: bool = True) -> ScanSummary:
    with _progress(show_progress) as progress:
        return index.update(progress)


def _summary_lines(summary: ScanSummary, verbose: bool) -> list[str]:
    lines = [
        f"Scanned {summary.files} files in {summary.seconds:.2f} s ({summary.files_per_second:.0f} files/s): "
        f"{summary.indexed} indexed, {summary.unchanged} unchanged, {summary.removed} removed.",
        f"Index: {summary.total_indexed} files, {summary.definitions} definitions, "
        f"{summary.references} references.",
    ]
    bad = {k: v for k, v in sorted(summary.skipped.items()) if k != "unsupported"}
    if bad:
        lines.append(
            "Skipped: "
            + ", ".join(f"{n} {reason.replace('_', ' ')}" for reason, n in bad.items())
            + ("" if verbose else " (--verbose lists them).")
        )
    if summary.skipped.get("unsupported"):
        count = summary.skipped["unsupported"]
        lines.append(f"Not indexed: {count} file{'s' if count != 1 else ''} of other types.")
    if verbose:
        for item in summary.skipped_files:
            detail = f" ({item.detail})" if item.detail else ""
            lines.append(f"  {item.path}: {SKIP_REASONS.get(item.reason, item.reason)}{detail}")
    return lines


@click.command("index")
@click.argument("path", required=False, type=click.Path(file_okay=False, path_type=str))
@click.option("--verbose", is_flag=True, help="List every skipped file with its reason.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--rebuild", is_flag=True, help="Throw the index away and build it again.")
@click.pass_context
def index(ctx: click.Context, path: str | None, verbose: bool, as_json: bool, rebuild: bool) -> None:
    """Index a repository (default: the current one); only changed files are parsed again.

    Git repositories: tracked and untracked-but-not-ignored files. `.codeassistignore` (gitignore
    syntax) excludes more. The index lives in `<repo>/.codeassist/index.db`, ignored by git through
    `.git/info/exclude`.
    """
    with _open(ctx, path) as repo_index:
        if rebuild:
            repo_index.rebuild()
        summary = _scan(repo_index, show_progress=not as_json)
    if as_json:
        click.echo(json.dumps(summary.to_json(), indent=2))
        return
    for line in _summary_lines(summary, verbose):
        click.echo(line)


def _split_focus(repo_index: RepoIndex, values: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """``--focus`` values naming an existing file are files; the rest are identifiers."""
    files: list[str] = []
    idents: list[str] = []
    for value in values:
        for candidate in (Path(value), repo_index.root / value):
            if candidate.is_file():
                try:
                    files.append(repo_index.rel(candidate.resolve()))
                except UsageError:
                    continue
                break
        else:
            idents.append(value)
    return files, idents


@click.command("map")
@click.option(
    "--tokens",
    type=click.IntRange(min=1),
    default=None,
    help="Token budget (default: index.map_tokens). Tokens are estimated as 4 characters each.",
)
@click.option(
    "--focus", multiple=True, metavar="PATH|SYMBOL", help="Rank around this file or identifier (repeatable)."
)
@click.option("--json", "as_json", is_flag=True, help="Print {text, files, tokens} as JSON.")
@click.pass_context
def repo_map(ctx: click.Context, tokens: int | None, focus: tuple[str, ...], as_json: bool) -> None:
    """Print the repository map: the most relevant definitions' signatures within a token budget.

    Files and definitions are ranked by PageRank on the definition/reference graph, personalised
    by the --focus files and identifiers. The index is brought up to date first.
    """
    with _open(ctx, None) as repo_index:
        _scan(repo_index)
        files, idents = _split_focus(repo_index, focus)
        result = repo_index.repo_map(tokens, files, idents)
    if as_json:
        click.echo(
            json.dumps({"text": result.text, "files": result.files, "tokens": result.tokens}, indent=2)
        )
        return
    if not result.text:
        click.echo("The map is empty: no definitions indexed (or the budget is too small).", err=True)
        return
    click.echo(result.text, nl=False)


@click.command("symbols")
@click.argument("query")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="At most this many.")
@click.option("--json", "as_json", is_flag=True, help="Print the symbols as JSON (0-based positions).")
@click.pass_context
def symbols(ctx: click.Context, query: str, limit: int, as_json: bool) -> None:
    """Find definitions by name or name prefix (case-insensitive; exact matches first).

    Prints `path:line:col kind name  signature` with 1-based lines and columns. Exits with 1
    when nothing matches.
    """
    with _open(ctx, None) as repo_index:
        _scan(repo_index)
        found = repo_index.symbols(query, limit)
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "name": s.name,
                        "kind": s.kind,
                        "path": s.path,
                        "line": s.line,
                        "col": s.col,
                        "end_line": s.end_line,
                        "end_col": s.end_col,
                        "signature": s.signature,
                        "scope": s.scope,
                    }
                    for s in found
                ],
                indent=2,
            )
        )
    else:
        for sym in found:
            name = f"{sym.scope}.{sym.name}" if sym.scope else sym.name
            click.echo(f"{sym.path}:{sym.line + 1}:{sym.col + 1}  {sym.kind}  {name}  {sym.signature}")
    if not found:
        click.echo(f"No definition matches {query!r}.", err=True)
        ctx.exit(1)
