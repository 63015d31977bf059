"""The cost ledger (SQLite in the XDG data dir) and `codeassist cost`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from codeassist.claude import pricing
from codeassist.claude.datatypes import Usage
from codeassist.claude.ledger import CallRecord, Ledger, LedgerError, default_ledger_path


def _rec(command: str, cost: float, days_ago: int = 0, model: str = "claude-sonnet-4-6") -> CallRecord:
    usage = Usage(input_tokens=1000, output_tokens=200, cache_read_tokens=50, cache_write_tokens=10,
                  cost_usd=cost, calls=1)
    return CallRecord(command=command, model=model, usage=usage,
                      ts=datetime.now(UTC) - timedelta(days=days_ago))


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "codeassist", *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=60, check=False)


def test_default_ledger_lives_in_the_xdg_data_dir(isolated_env: Path) -> None:
    assert default_ledger_path() == isolated_env / "xdg_data_home" / "codeassist" / "ledger.db"


def test_summary_groups_by_day_and_command(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.db")
    records = (_rec("refactor", 0.5), _rec("refactor", 0.25), _rec("chat", 0.1),
               _rec("chat", 1.0, days_ago=3))
    for rec in records:
        ledger.record(rec)
    rows = ledger.summary()
    today = datetime.now(UTC).date()
    assert [(r.day, r.command, r.usage.calls) for r in rows] == [
        ((today - timedelta(days=3)).isoformat(), "chat", 1), (today.isoformat(), "chat", 1),
        (today.isoformat(), "refactor", 2)]
    assert rows[-1].usage.cost_usd == pytest.approx(0.75) and rows[-1].usage.input_tokens == 2000
    assert ledger.total_cost(since=today) == pytest.approx(0.85)


def test_unreadable_ledger_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(LedgerError, match="Move the file away"):
        Ledger(path).record(_rec("chat", 0.1))


def test_prices_per_family() -> None:
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000, cache_read_tokens=1_000_000,
                  cache_write_tokens=1_000_000)
    sonnet = pricing.price_for("claude-sonnet-4-6")
    assert pricing.call_cost(sonnet, usage) == pytest.approx(3 + 15 + 0.3 + 3.75)
    assert pricing.price_for("claude-opus-4-7").input == 5.0
    assert pricing.price_for("claude-opus-4-1-20250805").input == 15.0
    assert pricing.price_for("claude-haiku-4-5-20251001").output == 5.0
    assert pricing.price_for("gemma-3-270m", local=True) == pricing.FREE
    assert pricing.price_for("some-new-model").input == 15.0  # unknown: priced high, never low


def test_cost_command_prints_a_table_by_day_and_command() -> None:
    ledger = Ledger()  # the default location, inside this test's XDG data dir
    ledger.record(_rec("refactor", 0.5))
    ledger.record(_rec("refactor", 0.25))
    ledger.record(_rec("chat", 0.125, days_ago=10))
    result = _run_cli("cost")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["day", "command", "calls"]
    today = datetime.now(UTC).date().isoformat()
    [refactor] = [line for line in lines if "refactor" in line]
    assert refactor.split()[:3] == [today, "refactor", "2"] and refactor.endswith("$0.7500")
    assert lines[-1].split()[0] == "total" and lines[-1].endswith("$0.8750")
    recent = _run_cli("cost", "--days", "7")
    assert "chat" not in recent.stdout and "$0.7500" in recent.stdout


def test_cost_command_json() -> None:
    Ledger().record(_rec("chat", 0.2))
    result = _run_cli("cost", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["total_usd"] == pytest.approx(0.2)
    assert data["rows"][0]["command"] == "chat" and data["rows"][0]["cache_read_tokens"] == 50


def test_cost_command_empty_and_bad_input() -> None:
    assert "No Claude calls recorded yet." in _run_cli("cost").stdout
    bad = _run_cli("cost", "--days", "0")
    assert bad.returncode == 2 and "--days must be at least 1" in bad.stderr
    assert "Traceback" not in bad.stderr
