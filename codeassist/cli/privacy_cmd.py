"""`codeassist privacy log`: what left the machine, as the audit recorded it (redacted)."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from codeassist.cli._common import fail


@click.group()
def privacy() -> None:
    """What codeassist sent to the cloud (the privacy audit)."""


@privacy.command("log")
@click.option("--last", "last", type=int, default=20, show_default=True, metavar="N",
              help="Show the last N cloud requests.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def log_cmd(last: int, as_json: bool) -> None:
    """Show the last cloud requests: when, which command, files and sizes, redactions by kind,
    tokens and cost. Request texts are never stored, only their redacted size and hash."""
    from codeassist.claude import Ledger

    if last < 1:
        fail(f"--last must be at least 1, not {last}.")
    ledger = Ledger()
    records = ledger.egress(last)
    if as_json:
        rows = [{**asdict(r), "ts": r.ts.isoformat() if r.ts else None} for r in records]
        click.echo(json.dumps({"requests": rows, "ledger": str(ledger.path)}, indent=2))
        return
    if not records:
        click.echo("Nothing was sent to the cloud yet (no request in the audit).")
        return
    for r in records:
        when = r.ts.strftime("%Y-%m-%d %H:%M:%S") if r.ts else "?"
        redactions = ", ".join(f"{k} ×{n}" for k, n in sorted(r.redactions.items())) or "none"
        files = ", ".join(f"{p} ({n:,} chars)" for p, n in r.files) or "none"
        click.echo(f"{when}  {r.command:<9} {r.endpoint:<13} {r.model}  {r.status}\n"
                   f"    {r.chars:,} chars sent (sha256 {r.body_sha256[:12]}), {r.input_tokens:,} in + "
                   f"{r.output_tokens:,} out tokens, ${r.cost_usd:.4f}\n"
                   f"    files: {files}\n    redacted: {redactions}")
