"""`codeassist config`: the effective settings and where each value came from."""

from __future__ import annotations

import json

import click

from codeassist import config as cfg
from codeassist import paths
from codeassist.cli._common import app


@click.group()
def config() -> None:
    """Show the effective configuration."""


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def show(ctx: click.Context, as_json: bool) -> None:
    """Print every setting, its effective value, and where it came from.

    Precedence: defaults < ~/.config/codeassist/config.toml < <repo>/.codeassist.toml <
    CODEASSIST_<SECTION>_<KEY> environment variables < command-line flags.
    """
    settings = app(ctx).settings()
    rows = [(key, _shown_value(settings, key), settings.sources.get(key, "default"))
            for key in cfg.all_keys()]
    if as_json:
        click.echo(json.dumps({k: {"value": v, "source": s} for k, v, s in rows}, indent=2))
        return
    width = max(len(k) for k, _, _ in rows)
    for key, value, source in rows:
        shown = json.dumps(value) if not isinstance(value, str) else (value or '""')
        click.echo(f"{key.ljust(width)}  {shown}  ({source})")


def _shown_value(settings: cfg.Settings, key: str) -> object:
    """The value to print; a secret (``server.api_key``) only as set/unset."""
    value = settings.get(key)
    if cfg.is_secret(key):
        return "(set)" if value else "(unset)"
    return value


@config.command("path")
@click.pass_context
def path(ctx: click.Context) -> None:
    """Print the config files that are read, in precedence order."""
    settings = app(ctx).settings()
    click.echo(f"user: {paths.user_config_file()}")
    if settings.repo_root is not None:
        click.echo(f"repo: {settings.repo_root / paths.REPO_CONFIG_NAME}")
