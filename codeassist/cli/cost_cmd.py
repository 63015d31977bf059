"""`codeassist cost`: tokens and dollars spent on Claude, by day and command."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import click

from codeassist.claude import Ledger, SummaryRow, Usage
from codeassist.cli._common import fail

_HEADERS = ("day", "command", "calls", "input", "output", "cache read", "cache write", "USD")


@click.command()
@click.option("--days", type=int, default=None, help="Only the last N days (today included).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def cost(days: int | None, as_json: bool) -> None:
    """Summarise the tokens and dollars spent on Claude, by day and command.

    Every Claude call is recorded in the cost ledger (XDG data directory, ledger.db).
    """
    if days is not None and days < 1:
        fail(f"--days must be at least 1, not {days}.")
    since = datetime.now(UTC).date() - timedelta(days=days - 1) if days else None
    ledger = Ledger()
    rows = ledger.summary(since)
    if as_json:
        total = sum(r.usage.cost_usd for r in rows)
        click.echo(json.dumps({"rows": [r.as_json() for r in rows], "total_usd": round(total, 6),
                               "ledger": str(ledger.path)}, indent=2))
        return
    if not rows:
        click.echo("No Claude calls recorded" + (f" in the last {days} days." if days else " yet."))
        return
    click.echo(_table(rows))


def _table(rows: list[SummaryRow]) -> str:
    def cells(label: str, command: str, u: Usage) -> tuple[str, ...]:
        return (label, command, str(u.calls), f"{u.input_tokens:,}", f"{u.output_tokens:,}",
                f"{u.cache_read_tokens:,}", f"{u.cache_write_tokens:,}", f"${u.cost_usd:.4f}")

    body = [cells(r.day, r.command, r.usage) for r in rows]
    total = cells("total", "", sum((r.usage for r in rows), Usage()))
    widths = [max(len(row[i]) for row in [_HEADERS, *body, total]) for i in range(len(_HEADERS))]

    def line(row: tuple[str, ...]) -> str:
        pairs = enumerate(zip(row, widths, strict=True))
        cells = [c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in pairs]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(_HEADERS), rule, *(line(r) for r in body), rule, line(total)])
