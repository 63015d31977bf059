"""Shared CLI plumbing: the context object, settings loading, and error → message conversion."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click

from codeassist.app import Application
from codeassist.config import Settings, load_settings
from codeassist.errors import CodeassistError, UsageError

log = logging.getLogger("codeassist")


@dataclass
class AppContext:
    repo: Path
    verbose: int

    @classmethod
    def create(cls, repo: str | None, verbose: int) -> AppContext:
        configure_logging(verbose)
        return cls(repo=Path(repo).resolve() if repo else Path.cwd(), verbose=verbose)

    def settings(self, **overrides: Any) -> Settings:
        """Effective settings for this repo; ``overrides`` use "section_key" names (CLI flags)."""
        dotted = {key.replace("__", "."): value for key, value in overrides.items()}
        return load_settings(self.repo, overrides=dotted)

    def settings_for(self, repo: Path, **overrides: Any) -> Settings:
        """Effective settings of another repository (a PATH argument's own), same overrides."""
        return AppContext(repo=repo, verbose=self.verbose).settings(**overrides)

    def application(self, settings: Settings, root: Path | None = None) -> Application:
        """The composition root for ``settings`` (its repository, else ``root``, else -C's)."""
        return Application(settings, root or self.repo)


def configure_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")


def app(ctx: click.Context) -> AppContext:
    obj = ctx.find_object(AppContext)
    if obj is None:  # a subcommand invoked on its own (tests)
        obj = AppContext.create(None, 0)
        ctx.obj = obj
    return obj


def fail(message: str, hint: str | None = None) -> NoReturn:
    raise UsageError(message, hint=hint)


def run_guarded(command: click.Command, argv: list[str] | None) -> Any:
    """Run the click command; turn codeassist errors into a message and their exit code."""
    try:
        return command.main(args=argv, prog_name="codeassist", standalone_mode=False)
    except CodeassistError as exc:
        click.echo(f"codeassist: {exc.message}", err=True)
        if exc.hint:
            click.echo(exc.hint, err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("codeassist: cancelled.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("codeassist: cancelled.", err=True)
        sys.exit(130)
