"""`codeassist chat` (Textual TUI, or `--plain` REPL) and `codeassist ask` (one question, streamed)."""

from __future__ import annotations

import asyncio
import sys
from contextlib import aclosing
from typing import Any

import click

from codeassist.cli._common import app
from codeassist.errors import Cancelled, UsageError

ROUTES = click.Choice(["auto", "local", "claude"])
MAX_STDIN_BYTES = 1_000_000  # piped text beyond this is cut, with a note


def _route_options(func: Any) -> Any:
    func = click.option("--route", type=ROUTES, default=None,
                        help="Who answers: auto (default), local or claude.")(func)
    func = click.option("--offline", is_flag=True, default=False,
                        help="Never call Claude (same as privacy.cloud = false).")(func)
    return func


def _settings(ctx: click.Context, route: str | None, offline: bool) -> Any:
    return app(ctx).settings(chat__route=route, privacy__cloud=False if offline else None)


@click.command()
@click.option("--plain", is_flag=True, help="A simple line-based REPL instead of the full-screen UI.")
@click.option("--resume", is_flag=True, help="Continue this repository's last conversation.")
@_route_options
@click.pass_context
def chat(ctx: click.Context, plain: bool, resume: bool, route: str | None, offline: bool) -> None:
    """Chat about the current repository with the local model and Claude.

    Quick questions, explanations and snippets go to the local model; work spanning many files goes
    to Claude (when ANTHROPIC_API_KEY is set). The local llama-server starts on first use.
    """
    application = app(ctx).application(_settings(ctx, route, offline))
    notice = application.notice()
    try:
        if plain:
            from codeassist.tui.repl import PlainChat

            # the REPL answers in the foreground: the index is brought up to date first
            asyncio.run(_plain(PlainChat(application.chat_session(update_index=True)), resume, notice))
        else:
            from codeassist.tui.app import ChatApp

            # the Textual chat brings the index up to date in the background
            ChatApp(application.chat_session(), resume=resume, notice=notice).run()
    finally:
        application.close()


async def _plain(repl: Any, resume: bool, notice: str | None) -> None:
    try:
        await repl.run(resume=resume, notice=notice)
    finally:
        await repl.session.runtime.aclose()


@click.command()
@click.argument("question", nargs=-1)
@click.option("-q", "--quiet", is_flag=True, help="Print only the answer (no route and stats lines).")
@click.option("--show-request", is_flag=True,
              help="Print the exact (redacted) request Claude would get, and send nothing.")
@_route_options
@click.pass_context
def ask(ctx: click.Context, question: tuple[str, ...], quiet: bool, show_request: bool, route: str | None,
        offline: bool) -> None:
    """Ask one QUESTION and print the answer as it streams.

    Text piped on stdin is appended to the question (`git diff | codeassist ask "review this"`).
    The answer goes to stdout; which model answered and why goes to stderr. Exit code 0 when an
    answer was printed, 2 without a question, and the usual codes for model-server or Claude errors.
    """
    from codeassist.privacy import clean_input

    text = " ".join(question).strip()
    if not sys.stdin.isatty():
        piped, notes = clean_input(sys.stdin.buffer.read(MAX_STDIN_BYTES + 1), "stdin", MAX_STDIN_BYTES)
        piped = piped.strip()
        for note in notes:
            click.echo(f"[{note}]", err=True)
        text = f"{text}\n\n{piped}" if text and piped else text or piped
    if not text:
        raise UsageError("No question given.",
                         hint='Pass one as an argument (`codeassist ask "..."`) or pipe it on stdin.')
    if show_request and route == "local":
        raise UsageError("--show-request shows what would go to Claude; --route local sends nothing.",
                         hint="Leave out --route local.")
    settings = _settings(ctx, "claude" if show_request else route, offline)
    try:
        asyncio.run(_ask(ctx, settings, text, quiet, show_request))
    except KeyboardInterrupt:
        raise Cancelled("Stopped.") from None


async def _ask(ctx: click.Context, settings: Any, text: str, quiet: bool, show_request: bool) -> None:
    from codeassist.chat import Done, Notice, Routed, Token

    application = app(ctx).application(settings)
    session = application.chat_session(update_index=True)
    if show_request and session.claude is not None:
        session.claude.show_request = click.echo
    notice = application.notice()
    if notice and not quiet:
        click.echo(f"[{notice}]", err=True)
    try:
        async with aclosing(session.answer(text)) as events:
            async for event in events:
                if isinstance(event, Token):
                    click.echo(event.text, nl=False)
                elif isinstance(event, Routed) and not quiet:
                    click.echo(f"[{event.line}]", err=True)
                elif isinstance(event, Notice) and not quiet:
                    click.echo(f"[{event.text}]", err=True)
                elif isinstance(event, Done):
                    click.echo("")
                    if not quiet:
                        s = event.stats
                        click.echo(f"[{s.prompt_tokens} prompt + {s.completion_tokens} answer tokens, "
                                   f"${s.cost_usd:.4f}, {s.total_s:.1f} s]", err=True)
    finally:
        await application.aclose()
        application.close()
