"""The ``codeassist`` command line. It parses arguments and calls the core; nothing more.

Subcommands live in their own modules and are imported only when used, so ``codeassist --help``
and the LSP start fast.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from codeassist import __version__
from codeassist.cli._common import AppContext, run_guarded

# command name -> "module:attribute" (relative to codeassist.cli)
COMMANDS: dict[str, tuple[str, str]] = {
    "chat": ("chat_cmd:chat", "Chat in the terminal (Textual TUI; --plain for a simple REPL)."),
    "ask": ("chat_cmd:ask", "Ask one question and print the answer (reads stdin when piped)."),
    "complete": ("complete_cmd:complete", "Print the completion for a position of a file (debugging)."),
    "snippet": ("complete_cmd:snippet", "Generate a snippet with the local model."),
    "refactor": ("refactor_cmd:refactor", "Plan a multi-file refactor with Claude; land it on a new branch."),
    "cost": ("cost_cmd:cost", "Summarise the tokens and dollars spent on Claude."),
    "privacy": ("privacy_cmd:privacy", "Show what was sent to the cloud (the redacted audit log)."),
    "index": ("index_cmd:index", "Index a repository (incremental)."),
    "map": ("index_cmd:repo_map", "Print the ranked repository map within a token budget."),
    "symbols": ("index_cmd:symbols", "Find symbols by name or prefix."),
    "server": ("server_cmd:server", "Manage the local llama-server."),
    "model": ("model_cmd:model", "List, pull and choose local models."),
    "doctor": ("server_cmd:doctor", "Check the local engine: binary, backend, GPU, model, server health."),
    "lsp": ("lsp_cmd:lsp", "Run the language server (stdio by default) for editors."),
    "config": ("config_cmd:config", "Show the effective configuration and where each value comes from."),
}

EXIT_CODES_HELP = """\b
Exit codes: 0 ok, 1 error, 2 bad usage or config, 3 index, 4 model server,
5 model files, 6 Claude API, 7 git, 8 refactor not applied, 130 cancelled."""


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attr = entry[0].split(":")
        module = importlib.import_module(f"codeassist.cli.{module_name}")
        command: click.Command = getattr(module, attr)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_text) for name, (_, help_text) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, invoke_without_command=True, epilog=EXIT_CODES_HELP)
@click.version_option(__version__, prog_name="codeassist")
@click.option("-C", "--repo", "repo", type=click.Path(file_okay=False, path_type=str), default=None,
              help="Repository to work in (default: the one containing the current directory).")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, repo: str | None, verbose: int) -> None:
    """codeassist: local completions with Gemma, multi-file refactors with Claude.

    Run without a command in a terminal to start the chat.
    """
    ctx.obj = AppContext.create(repo, verbose)
    if ctx.invoked_subcommand is None:
        if sys.stdin.isatty() and sys.stdout.isatty():
            chat = LazyGroup.get_command(cli, ctx, "chat")  # type: ignore[arg-type]
            assert chat is not None
            ctx.invoke(chat)
        else:
            click.echo(ctx.get_help())


def main(argv: list[str] | None = None) -> Any:
    return run_guarded(cli, argv)
