"""`codeassist complete` and `codeassist snippet`: the completion engine from the command line."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import click

from codeassist.app import Application
from codeassist.cli._common import app
from codeassist.completion import CompletionEngine, CompletionRequest, CompletionResult
from codeassist.config import Settings
from codeassist.errors import CodeassistError, UsageError
from codeassist.paths import find_repo_root

log = logging.getLogger(__name__)


def _read_source(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"There is no file {path}.", hint="Give the path of an existing file.") from None
    except IsADirectoryError:
        raise UsageError(f"{path} is a directory.", hint="Give the path of a file.") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text.", hint="Completions work on text files.") from None
    except OSError as exc:
        raise UsageError(f"Cannot read {path}: {exc.strerror}.") from exc


def _language(path: Path, given: str | None) -> str:
    if given:
        return given
    from codeassist.index import language_for_path

    return language_for_path(path) or path.suffix.lstrip(".") or "text"


async def _with_engine(settings: Settings, root: Path, use_index: bool, work: Any) -> Any:
    application = Application(settings, root)
    notice = application.notice()
    if notice:
        click.echo(notice, err=True)
    index = application.open_index() if use_index else None
    try:
        return await work(application.completion_engine(index))
    finally:
        await application.aclose()
        application.close()


def _print_result(result: CompletionResult, as_json: bool, path: Path, line: int, col: int) -> None:
    if as_json:
        context = [{"path": c.path, "start_line": c.start_line + 1, "end_line": c.end_line, "kind": c.kind}
                   for c in result.context]
        click.echo(json.dumps({"path": str(path), "line": line, "col": col, "items": result.items,
                               "cached": result.cached, "timings": result.timings.as_dict(),
                               "context": context}, indent=2))
        return
    if result.items:
        click.echo(result.items[0])
    else:
        click.echo("(no suggestion for this position)", err=True)
    t = result.timings
    click.echo(f"-- {t.mode}: prompt {t.prompt_tokens} tokens ({t.cached_tokens} cached), "
               f"{t.predicted_tokens} generated, server {t.server_ms:.0f} ms, "
               f"context {t.context_ms:.1f} ms, total {t.total_ms:.0f} ms", err=True)


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--line", "-l", "line", type=int, required=True, help="Line, 1-based.")
@click.option("--col", "-c", "col", type=int, required=True, help="Column, 1-based, in characters.")
@click.option("--language", default=None, help="Language name (default: from the file name).")
@click.option("--no-context", is_flag=True, help="Leave out repository context (index, open files).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output with timings.")
@click.pass_context
def complete(ctx: click.Context, path: Path, line: int, col: int, language: str | None,
             no_context: bool, as_json: bool) -> None:
    """Print the completion at LINE:COL of PATH (the file on disk), with timings."""
    if line < 1 or col < 1:
        raise UsageError("--line and --col are 1-based.",
                         hint="The first line is 1 and so is the first column.")
    context = app(ctx)
    overrides = {"completion__context_tokens": 0} if no_context else {}
    text = _read_source(path)
    root = find_repo_root(path.resolve())  # the file's own repository (and its settings)
    settings = context.settings_for(root, **overrides)
    request = CompletionRequest(text=text, line=line - 1, col=col - 1, path=str(path.resolve()),
                                language=_language(path, language))

    async def work(engine: CompletionEngine) -> CompletionResult:
        return await engine.complete(request)

    result = asyncio.run(_with_engine(settings, root, not no_context, work))
    _print_result(result, as_json, path, line, col)


@click.command()
@click.argument("instruction")
@click.option("--file", "file", type=click.Path(path_type=Path), default=None,
              help="A file whose code is the context (its language is used).")
@click.option("--language", default=None, help="Language name (default: from --file).")
@click.pass_context
def snippet(ctx: click.Context, instruction: str, file: Path | None, language: str | None) -> None:
    """Generate code for INSTRUCTION with the local model and print it."""
    context = app(ctx)
    source = _read_source(file) if file is not None else ""
    lang = _language(file, language) if file is not None else (language or "")
    root = find_repo_root(file.resolve()) if file is not None else context.repo
    settings = context.settings_for(root)

    async def work(engine: CompletionEngine) -> str:
        return await engine.generate_snippet(instruction, source, language=lang)

    code = asyncio.run(_with_engine(settings, root, False, work))
    if not code.strip():
        raise CodeassistError("The local model returned no code for this instruction.",
                              hint="Rephrase it, or use a larger model (`codeassist model list`).")
    click.echo(code)
