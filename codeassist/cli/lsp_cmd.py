"""`codeassist lsp`: run the language server for editors (stdio by default, or TCP).

stdout carries the protocol, so logs go to stderr (``-v``/``-vv``) or to ``--log-file``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import click

from codeassist.cli._common import app

log = logging.getLogger(__name__)


@click.command()
@click.option("--tcp", "port", type=click.IntRange(1, 65535), default=None,
              help="Listen on this TCP port instead of talking over stdin/stdout.")
@click.option("--stdio", is_flag=True,
              help="Talk over stdin/stdout (the default; accepted for editors that pass it).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address for --tcp.")
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the log to this file (debug level).")
@click.option("--probe-interval", type=click.FloatRange(0.1, 600), default=2.0, hidden=True,
              help="Seconds between health probes while the model server is down.")
@click.pass_context
def lsp(ctx: click.Context, port: int | None, stdio: bool, host: str, log_file: Path | None,
        probe_interval: float) -> None:
    """Run the language server: inline completions, symbols and code actions for editors.

    Editors start it as `codeassist lsp` and talk over stdin/stdout. Settings come from the
    editor (initializationOptions / didChangeConfiguration) layered over the config files.
    """
    app(ctx)  # logging to stderr, never stdout
    if log_file is not None:
        handler = logging.FileHandler(log_file, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.setLevel(logging.DEBUG)
        root = logging.getLogger()
        for existing in root.handlers:  # stderr keeps the -v level
            existing.setLevel(root.level)
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
    from codeassist_lsp import create_server  # pygls loads only for this command

    server = create_server(probe_interval=probe_interval)
    if port is None or stdio:
        server.start_io()
    else:
        log.info("codeassist lsp listening on %s:%s", host, port)
        server.start_tcp(host, port)
