"""The cost ledger: tokens and dollars of every Claude call, in SQLite in the XDG data directory.

One row per call (``calls``); :meth:`Ledger.summary` groups them by day and command for
``codeassist cost``. The privacy audit (``egress``) records, per cloud request, what left in
redacted form — sizes, the files it carried, redactions by kind, the redacted body's hash, tokens,
cost — for ``codeassist privacy log``; a request body itself is never stored.
One connection per :class:`Ledger`, guarded by a lock, so threads can share
it; several processes can write at once (WAL journal).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from codeassist import paths
from codeassist.claude.datatypes import Usage
from codeassist.errors import CodeassistError

log = logging.getLogger(__name__)

__all__ = ["CallRecord", "EgressRecord", "Ledger", "LedgerError", "SummaryRow", "default_ledger_path"]

LEDGER_FILE = "ledger.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,               -- ISO 8601, UTC
    day TEXT NOT NULL,              -- YYYY-MM-DD, UTC
    command TEXT NOT NULL,
    model TEXT NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cache_read_tokens INTEGER NOT NULL,
    cache_creation_tokens INTEGER NOT NULL,  -- Usage.cache_write_tokens (the name older ledgers have)
    cost_usd REAL NOT NULL,
    status TEXT NOT NULL            -- ok | truncated | cancelled
);
CREATE INDEX IF NOT EXISTS calls_day ON calls(day);
CREATE TABLE IF NOT EXISTS egress (
    id INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,               -- ISO 8601, UTC
    command TEXT NOT NULL,
    endpoint TEXT NOT NULL,         -- messages | count_tokens | shown (printed, not sent)
    model TEXT NOT NULL,
    status TEXT NOT NULL,
    chars INTEGER NOT NULL,         -- size of the redacted body
    files TEXT NOT NULL,            -- JSON [[path, chars], ...]
    redactions TEXT NOT NULL,       -- JSON {kind: count}
    body_sha256 TEXT NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cost_usd REAL NOT NULL
);
"""


class LedgerError(CodeassistError):
    """The cost ledger database could not be read or written."""


def default_ledger_path() -> Path:
    return paths.data_dir() / LEDGER_FILE


@dataclass(frozen=True)
class CallRecord:
    """One call as booked: who made it, the model, its :class:`Usage` (tokens and dollars)."""

    command: str
    model: str
    usage: Usage
    status: str = "ok"
    ts: datetime | None = None  # default: now


@dataclass(frozen=True)
class EgressRecord:
    """What one cloud request carried, redacted: never its text."""

    command: str
    endpoint: str
    model: str
    status: str
    chars: int
    files: tuple[tuple[str, int], ...]
    redactions: dict[str, int]
    body_sha256: str
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    ts: datetime | None = None  # default: now


@dataclass(frozen=True)
class SummaryRow:
    """Totals of one (day, command): ``usage.calls`` calls."""

    day: str
    command: str
    usage: Usage

    def as_json(self) -> dict[str, object]:
        u = self.usage
        return {"day": self.day, "command": self.command, "calls": u.calls, "input_tokens": u.input_tokens,
                "output_tokens": u.output_tokens, "cache_read_tokens": u.cache_read_tokens,
                "cache_write_tokens": u.cache_write_tokens, "cost_usd": u.cost_usd}


class Ledger:
    """Append-only record of Claude calls (one connection per instance, shared by threads)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_ledger_path()
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _open(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise LedgerError(
                f"Cannot open the cost ledger {self.path}: {exc}.",
                hint="Check that the directory is writable (XDG_DATA_HOME).",
            ) from exc
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # WAL: no fsync per call
            conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError:
            conn.close()
            raise
        return conn

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                if self._conn is None:
                    self._conn = self._open()
                with self._conn:
                    yield self._conn
            except sqlite3.DatabaseError as exc:
                raise LedgerError(
                    f"The cost ledger {self.path} is unreadable: {exc}.",
                    hint="Move the file away; a new, empty ledger is created on the next call.",
                ) from exc

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def record(self, rec: CallRecord) -> None:
        ts = (rec.ts or datetime.now(UTC)).astimezone(UTC)
        u = rec.usage
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO calls (ts, day, command, model, input_tokens, output_tokens, cache_read_tokens,"
                " cache_creation_tokens, cost_usd, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (ts.isoformat(timespec="seconds"), ts.date().isoformat(), rec.command, rec.model,
                 u.input_tokens, u.output_tokens, u.cache_read_tokens, u.cache_write_tokens,
                 u.cost_usd, rec.status),
            )
        log.debug("ledger: %s %s $%.6f", rec.command, rec.model, u.cost_usd)

    def summary(self, since: date | None = None) -> list[SummaryRow]:
        """Totals per (day, command), oldest day first."""
        if not self.path.exists():
            return []
        query = (
            "SELECT day, command, COUNT(*), SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens),"
            " SUM(cache_creation_tokens), SUM(cost_usd) FROM calls WHERE day >= ?"
            " GROUP BY day, command ORDER BY day, command"
        )
        with self._connect() as conn:
            rows = conn.execute(query, ((since or date.min).isoformat(),)).fetchall()
        return [SummaryRow(str(r[0]), str(r[1]), Usage(
            input_tokens=int(r[3]), output_tokens=int(r[4]), cache_read_tokens=int(r[5]),
            cache_write_tokens=int(r[6]), cost_usd=float(r[7]), calls=int(r[2]))) for r in rows]

    def total_cost(self, since: date | None = None) -> float:
        return sum(row.usage.cost_usd for row in self.summary(since))

    def record_egress(self, rec: EgressRecord) -> None:
        ts = (rec.ts or datetime.now(UTC)).astimezone(UTC)
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO egress (ts, command, endpoint, model, status, chars, files, redactions,"
                " body_sha256, input_tokens, output_tokens, cost_usd)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (ts.isoformat(timespec="seconds"), rec.command, rec.endpoint, rec.model, rec.status,
                 rec.chars, json.dumps([list(f) for f in rec.files]),
                 json.dumps(rec.redactions, sort_keys=True),
                 rec.body_sha256, rec.input_tokens, rec.output_tokens, rec.cost_usd),
            )

    def egress(self, last: int = 20) -> list[EgressRecord]:
        """The ``last`` cloud requests of the audit, oldest first."""
        if not self.path.exists():
            return []
        query = ("SELECT ts, command, endpoint, model, status, chars, files, redactions, body_sha256,"
                 " input_tokens, output_tokens, cost_usd FROM egress ORDER BY id DESC LIMIT ?")
        with self._connect() as conn:
            rows = conn.execute(query, (last,)).fetchall()
        return [EgressRecord(
            command=str(r[1]), endpoint=str(r[2]), model=str(r[3]), status=str(r[4]), chars=int(r[5]),
            files=tuple((str(p), int(n)) for p, n in json.loads(r[6])), redactions=dict(json.loads(r[7])),
            body_sha256=str(r[8]), input_tokens=int(r[9]), output_tokens=int(r[10]), cost_usd=float(r[11]),
            ts=datetime.fromisoformat(str(r[0]))) for r in reversed(rows)]
