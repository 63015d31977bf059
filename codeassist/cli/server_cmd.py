"""`codeassist server build|start|stop|status|logs` and `codeassist doctor`."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from codeassist.cli._common import app
from codeassist.config import Settings
from codeassist.runtime import ManagedServer, ServerStatus, catalogue, provision

BACKENDS = click.Choice(["auto", "cpu", "cuda", "vulkan", "metal"])


@click.group()
def server() -> None:
    """Manage the local llama-server (a background process with the configured model)."""


@server.command()
@click.option("--backend", type=BACKENDS, default=None,
              help="ggml backend to compile in (default: server.backend / CODEASSIST_GPU, auto-detected).")
@click.option("--force", is_flag=True, help="Rebuild even when a verified build is cached.")
@click.pass_context
def build(ctx: click.Context, backend: str | None, force: bool) -> None:
    """Build llama.cpp's native llama-server once per machine and backend (cached)."""
    settings = app(ctx).settings(server__backend=backend)
    info = provision.build_server(settings, force=force,
                                  report=lambda msg: click.echo(f"server build: {msg}", err=True))
    click.echo(f"{info.path} (version {info.version}, backend {info.backend}, "
               f"GPU offload {'possible' if info.gpu_capable else 'not available'})")


@server.command()
@click.option("--port", type=int, default=None, help="Port to listen on (default: server.port).")
@click.option("--host", default=None,
              help="Address to listen on (default: server.host, 127.0.0.1). Any other than loopback "
                   "needs --api-key-file.")
@click.option("--api-key-file", type=click.Path(dir_okay=False, path_type=str), default=None,
              help="File of API keys, one per line; clients send one as `server.api_key`.")
@click.option("--metrics/--no-metrics", default=None,
              help="Serve Prometheus metrics on /metrics (default: server.metrics).")
@click.option("--model-path", type=click.Path(dir_okay=False, path_type=str), default=None,
              help="A GGUF file to serve instead of the configured model.")
@click.option("--no-wait", is_flag=True, help="Return at once instead of waiting for the model to load.")
@click.pass_context
def start(ctx: click.Context, port: int | None, host: str | None, api_key_file: str | None,
          metrics: bool | None, model_path: str | None, no_wait: bool) -> None:
    """Start the managed llama-server in the background (no-op when it already runs).

    Team mode: `codeassist server start --host 0.0.0.0 --api-key-file keys.txt` serves the model
    to other machines; see docs/deploy.md.
    """
    settings = app(ctx).settings(server__port=port, server__host=host, server__api_key_file=api_key_file,
                                 server__metrics=metrics, model__path=model_path)
    _refuse_attached(settings)
    status = ManagedServer(settings).start(wait=not no_wait)
    click.echo(f"llama-server {status.state} at {status.url} (pid {status.pid})")
    click.echo(f"model: {status.model}")
    notice = catalogue.offline_model_notice(settings)
    if notice:
        click.echo(notice, err=True)


@server.command()
@click.pass_context
def stop(ctx: click.Context) -> None:
    """Stop the managed llama-server."""
    settings = app(ctx).settings()
    _refuse_attached(settings)
    stopped = ManagedServer(settings).stop()
    click.echo("llama-server stopped" if stopped else "llama-server was not running")


@server.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Show whether the server runs, where, with which model. Exit 0 when it is healthy, else 4."""
    settings = app(ctx).settings()
    if settings.server.url:
        from codeassist.runtime.doctor import check_endpoints

        states = check_endpoints(settings)
        data: dict[str, Any] = {"state": "running" if any(s.state == "up" for s in states) else "unreachable",
                                "url": ", ".join(settings.server.url), "managed": False,
                                "endpoints": [asdict(s) for s in states]}
    else:
        data = _status_dict(ManagedServer(settings).status())
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        from codeassist.runtime.doctor import describe_endpoint
        from codeassist.runtime.pool import EndpointState

        for key, value in data.items():
            if key == "endpoints":
                for state in value:
                    click.echo(f"endpoint: {describe_endpoint(EndpointState(**state))}")
            elif value not in (None, "", []):
                click.echo(f"{key}: {' '.join(value) if isinstance(value, list) else value}")
    ctx.exit(0 if data["state"] == "running" else 4)


def _status_dict(st: ServerStatus) -> dict[str, Any]:
    data = asdict(st)
    data["log_path"] = str(st.log_path)
    data["command"] = list(st.command)
    data["managed"] = True
    return data


@server.command()
@click.option("-n", "--lines", type=int, default=50, show_default=True, help="How many lines to show.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines (Ctrl-C to stop).")
@click.pass_context
def logs(ctx: click.Context, lines: int, follow: bool) -> None:
    """Print the managed server's log."""
    srv = ManagedServer(app(ctx).settings())
    path = srv.log_path
    if not path.exists():
        click.echo(f"No log yet ({path}); start the server with `codeassist server start`.", err=True)
        return
    text = srv.log_tail(lines)
    if text:
        click.echo(text)
    if follow:
        _follow(path)


def _follow(path: Path) -> None:
    with path.open("rb") as fh:
        fh.seek(0, 2)
        while True:
            chunk = fh.read()
            if chunk:
                click.echo(chunk.decode("utf-8", "replace"), nl=False)
            else:
                time.sleep(0.3)


def _refuse_attached(settings: Settings) -> None:
    if settings.server.url:
        raise click.UsageError(
            f"server.url is set ({', '.join(settings.server.url)}): codeassist uses that server and does "
            "not manage one. Remove server.url to use the managed server.")


# --- doctor -------------------------------------------------------------------------------------
@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def doctor(ctx: click.Context, as_json: bool) -> None:
    """Check the local engine: binary, backend, GPU, model and server health.

    Exits 0 when completions can work, 4 when something needs fixing (each problem says how).
    """
    from codeassist.runtime import doctor as checks_mod

    settings = app(ctx).settings()
    checks = checks_mod.run_checks(settings)
    if as_json:
        click.echo(json.dumps([asdict(c) for c in checks], indent=2))
    else:
        for check in checks:
            mark = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}[check.level]
            click.echo(f"[{mark}] {check.name}: {check.summary}")
            for line in check.details:
                click.echo(f"       {line}")
    ctx.exit(4 if any(c.level == "fail" for c in checks) else 0)

