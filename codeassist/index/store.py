"""The SQLite boundary: the only module importing ``sqlite3``.

``<repo>/.codeassist/index.db`` in WAL mode, with a schema version in ``meta``. A database that is
unreadable or of another schema version is deleted and rebuilt (the index is a cache).

Thread safety: one connection opened with ``check_same_thread=False`` and guarded by a lock;
every method holds the lock for one short transaction, so an asyncio app (the language server)
may call it from handlers and worker threads alike. Other processes (``codeassist index`` while
an editor is open) coordinate through WAL and a busy timeout.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codeassist.errors import IndexCorruptError, IndexError_
from codeassist.index.treesitter import Parsed, unpack_positions

__all__ = ["SCHEMA_VERSION", "FileRow", "FileWrite", "Store"]

log = logging.getLogger(__name__)
SCHEMA_VERSION = 3

_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files(id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL, size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL, digest TEXT, language TEXT, skip TEXT, detail TEXT NOT NULL DEFAULT '',
    n_defs INTEGER NOT NULL DEFAULT 0, n_refs INTEGER NOT NULL DEFAULT 0);
CREATE TABLE defs(id INTEGER PRIMARY KEY, file_id INTEGER NOT NULL, name TEXT NOT NULL,
    kind TEXT NOT NULL, line INTEGER NOT NULL, col INTEGER NOT NULL, end_line INTEGER NOT NULL,
    end_col INTEGER NOT NULL, signature TEXT NOT NULL, scope TEXT NOT NULL);
-- one row per file and referenced name: n occurrences at positions (packed, see pack_positions)
CREATE TABLE refs(file_id INTEGER NOT NULL, name TEXT NOT NULL, n INTEGER NOT NULL, positions BLOB NOT NULL);
CREATE TABLE imports(file_id INTEGER NOT NULL, module TEXT NOT NULL);
CREATE TABLE graph(id INTEGER PRIMARY KEY CHECK (id = 1), generation INTEGER NOT NULL, data BLOB NOT NULL);
"""
# Secondary indexes: dropped while a cold scan bulk-loads (building them afterwards is faster).
_INDEXES = {
    "defs_name": "defs(name COLLATE NOCASE)",
    "defs_file": "defs(file_id)",
    "refs_name": "refs(name)",
    "refs_file": "refs(file_id)",
    "imports_file": "imports(file_id)",
}
_PER_FILE_TABLES = ("defs", "refs", "imports")
_DEF_COLUMNS = "d.name, d.kind, f.path, d.line, d.col, d.end_line, d.end_col, d.signature, d.scope"


@dataclass(frozen=True, slots=True)
class FileRow:
    id: int
    size: int
    mtime_ns: int
    digest: str | None
    skip: str | None
    detail: str


@dataclass(slots=True)
class FileWrite:
    """What a scan learned about one file."""

    path: str
    size: int
    mtime_ns: int
    digest: str | None
    language: str | None
    skip: str | None = None
    detail: str = ""
    parsed: Parsed | None = None  # None with skip None: content unchanged, keep the rows


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._conn = self._open()

    # -- opening, rebuilding ------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=10.0, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _open(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise IndexError_(
                f"Cannot create {self.path.parent}: {exc.strerror}.",
                hint="Check the permissions of the repository directory.",
            ) from exc
        if not self.path.exists():
            return self._create()
        try:
            conn = self._connect()
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if row is not None and row[0] == str(SCHEMA_VERSION):
                self._create_indexes(conn)  # a bulk load may have been interrupted
                return conn
            conn.close()
            reason = "another schema version" if row is not None else "incomplete"
        except sqlite3.DatabaseError as exc:
            if _busy(exc):
                raise self._busy_error(exc) from exc
            reason = str(exc)
        if self.path.exists():
            log.warning("Rebuilding %s (%s).", self.path, reason)
        self._delete_files()
        return self._create()

    def _delete_files(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def _create(self) -> sqlite3.Connection:
        try:
            conn = self._connect()
            conn.executescript("BEGIN;" + _SCHEMA + "COMMIT;")
            self._create_indexes(conn)
            conn.executemany(
                "INSERT INTO meta VALUES (?, ?)", [("schema", str(SCHEMA_VERSION)), ("generation", "0")]
            )
        except sqlite3.Error as exc:
            raise IndexError_(
                f"Cannot create the index database {self.path}: {exc}.",
                hint="Check free disk space and permissions, then run `codeassist index`.",
            ) from exc
        return conn

    @staticmethod
    def _create_indexes(conn: sqlite3.Connection) -> None:
        for name, target in _INDEXES.items():
            conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """Drop the secondary indexes while a cold scan writes everything, build them after."""
        with self._tx() as conn:
            for name in _INDEXES:
                conn.execute(f"DROP INDEX IF EXISTS {name}")
        try:
            yield
        finally:
            with self._tx() as conn:
                self._create_indexes(conn)

    def rebuild(self) -> None:
        """Throw the database away and start empty (after corruption showed up in use)."""
        with self._lock:
            self._conn.close()
            self._delete_files()
            self._conn = self._create()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction under the lock; database errors become IndexCorruptError."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                raise self._busy_error(exc) from exc
            except sqlite3.DatabaseError as exc:
                raise IndexCorruptError(
                    f"The index database {self.path} is damaged: {exc}.",
                    hint="Run `codeassist index` to rebuild it.",
                ) from exc

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                if _busy(exc):  # another process holds a lock: not damage, never a reason to rebuild
                    raise self._busy_error(exc) from exc
                raise IndexCorruptError(
                    f"The index database {self.path} is damaged: {exc}.",
                    hint="Run `codeassist index` to rebuild it.",
                ) from exc

    def _busy_error(self, exc: sqlite3.Error) -> IndexError_:
        return IndexError_(
            f"The index database {self.path} is busy or unwritable: {exc}.",
            hint="Another codeassist process may be scanning; try again in a moment.",
        )

    # -- writing -------------------------------------------------------------------------------
    def file_rows(self) -> dict[str, FileRow]:
        rows = self._read("SELECT path, id, size, mtime_ns, digest, skip, detail FROM files")
        return {r[0]: FileRow(*r[1:]) for r in rows}

    def write(self, writes: Iterable[FileWrite], removed: Iterable[str], *, new: bool = False) -> bool:
        """Apply a scan's results in one transaction; True when definitions/references changed.

        ``new``: the files have no rows yet (a cold scan into an empty index), nothing to look up."""
        changed = False
        with self._tx() as conn:
            for path in removed:
                changed |= self._remove(conn, path)
            for item in writes:
                changed |= self._write_one(conn, item, new)
            if changed:
                conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
        return changed

    def _remove(self, conn: sqlite3.Connection, path: str) -> bool:
        row = conn.execute("SELECT id, skip FROM files WHERE path = ?", (path,)).fetchone()
        if row is None:
            return False
        self._clear(conn, row[0])
        conn.execute("DELETE FROM files WHERE id = ?", (row[0],))
        return row[1] is None

    @staticmethod
    def _clear(conn: sqlite3.Connection, file_id: int) -> None:
        for table in _PER_FILE_TABLES:
            conn.execute(f"DELETE FROM {table} WHERE file_id = ?", (file_id,))

    def _write_one(self, conn: sqlite3.Connection, item: FileWrite, new: bool = False) -> bool:
        row = None if new else conn.execute(
            "SELECT id, skip FROM files WHERE path = ?", (item.path,)).fetchone()
        stat = (item.size, item.mtime_ns, item.digest, item.language, item.skip, item.detail)
        if item.parsed is None and item.skip is None:  # same content: keep its rows
            if row is not None:
                conn.execute(
                    "UPDATE files SET size=?, mtime_ns=?, digest=?, language=?, skip=?, detail=? WHERE id=?",
                    (*stat, row[0]),
                )
            return False
        parsed = item.parsed
        totals = (len(parsed.defs), sum(r[1] for r in parsed.ref_rows())) if parsed is not None else (0, 0)
        if row is not None:
            file_id = row[0]
            self._clear(conn, file_id)
            conn.execute(
                "UPDATE files SET size=?, mtime_ns=?, digest=?, language=?, skip=?, detail=?, "
                "n_defs=?, n_refs=? WHERE id=?",
                (*stat, *totals, file_id),
            )
        else:
            cur = conn.execute(
                "INSERT INTO files(path, size, mtime_ns, digest, language, skip, detail, "
                "n_defs, n_refs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (item.path, *stat, *totals),
            )
            assert cur.lastrowid is not None
            file_id = cur.lastrowid
        if parsed is not None:
            self._insert_parsed(conn, file_id, parsed)
        return parsed is not None or (row is not None and row[1] is None)

    @staticmethod
    def _insert_parsed(conn: sqlite3.Connection, file_id: int, parsed: Parsed) -> None:
        conn.executemany(
            "INSERT INTO defs(file_id, name, kind, line, col, end_line, end_col, signature, scope) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(file_id, *d) for d in parsed.defs],
        )
        conn.executemany("INSERT INTO refs VALUES (?, ?, ?, ?)", [(file_id, *r) for r in parsed.ref_rows()])
        conn.executemany("INSERT INTO imports VALUES (?, ?)", [(file_id, m) for m in parsed.imports])

    # -- reading -------------------------------------------------------------------------------
    def generation(self) -> int:
        return int(self._read("SELECT value FROM meta WHERE key = 'generation'")[0][0])

    def symbols(self, query: str, limit: int) -> list[tuple[Any, ...]]:
        pattern = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return self._read(
            f"SELECT {_DEF_COLUMNS} FROM defs d JOIN files f ON f.id = d.file_id "
            "WHERE d.name LIKE ? ESCAPE '\\' "
            "ORDER BY d.name != ?, lower(d.name) != lower(?), length(d.name), d.name, f.path, d.line LIMIT ?",
            (pattern, query, query, limit),
        )

    def definitions(self, name: str) -> list[tuple[Any, ...]]:
        # `COLLATE NOCASE` lets SQLite use the defs_name index (declared NOCASE); the second,
        # exact comparison keeps the match case-sensitive. Without it every lookup scans all defs.
        return self._read(
            f"SELECT {_DEF_COLUMNS} FROM defs d JOIN files f ON f.id = d.file_id "
            "WHERE d.name = ? COLLATE NOCASE AND d.name = ? ORDER BY f.path, d.line",
            (name, name),
        )

    def references(self, name: str) -> list[tuple[Any, ...]]:
        rows = self._read(
            "SELECT f.path, r.positions FROM refs r JOIN files f ON f.id = r.file_id "
            "WHERE r.name = ? ORDER BY f.path",
            (name,),
        )
        return [(name, path, line, col) for path, blob in rows for line, col in unpack_positions(blob)]

    def outline(self, path: str) -> list[tuple[Any, ...]]:
        return self._read(
            f"SELECT {_DEF_COLUMNS} FROM defs d JOIN files f ON f.id = d.file_id "
            "WHERE f.path = ? ORDER BY d.line, d.col",
            (path,),
        )

    def imports(self, path: str) -> list[str]:
        rows = self._read(
            "SELECT i.module FROM imports i JOIN files f ON f.id = i.file_id "
            "WHERE f.path = ? ORDER BY i.rowid",
            (path,),
        )
        return [r[0] for r in rows]

    def defs_by_id(self, ids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
        out: dict[int, tuple[Any, ...]] = {}
        for i in range(0, len(ids), 500):
            chunk = list(ids[i : i + 500])
            marks = ",".join("?" * len(chunk))
            for row in self._read(
                f"SELECT d.id, {_DEF_COLUMNS} FROM defs d JOIN files f ON f.id = d.file_id "
                f"WHERE d.id IN ({marks})",
                chunk,
            ):
                out[row[0]] = row[1:]
        return out

    def counts(self) -> tuple[int, int, int]:
        """(indexed files, definitions, references)."""
        row = self._read(
            "SELECT count(*), coalesce(sum(n_defs), 0), coalesce(sum(n_refs), 0) "
            "FROM files WHERE skip IS NULL"
        )[0]
        return int(row[0]), int(row[1]), int(row[2])

    # -- the reference graph -------------------------------------------------------------------
    def graph_rows(
        self,
    ) -> tuple[list[tuple[int, str]], list[tuple[int, str, int]], list[tuple[int, int, str]]]:
        """(indexed files, reference counts per file and name, definitions) for building the graph."""
        with self._lock:
            files = self._read("SELECT id, path FROM files WHERE skip IS NULL ORDER BY id")
            refcounts = self._read("SELECT file_id, name, n FROM refs")
            defs = self._read("SELECT id, file_id, name FROM defs")
        return files, refcounts, defs

    def file_graph_rows(self, path: str) -> tuple[int | None, list[tuple[str, int]], list[tuple[int, str]]]:
        with self._lock:
            row = self._read("SELECT id FROM files WHERE path = ? AND skip IS NULL", (path,))
            if not row:
                return None, [], []
            file_id = int(row[0][0])
            refcounts = self._read("SELECT name, n FROM refs WHERE file_id = ?", (file_id,))
            defs = self._read("SELECT id, name FROM defs WHERE file_id = ?", (file_id,))
        return file_id, refcounts, defs

    def load_graph(self) -> tuple[int, bytes] | None:
        rows = self._read("SELECT generation, data FROM graph WHERE id = 1")
        return (int(rows[0][0]), bytes(rows[0][1])) if rows else None

    def save_graph(self, generation: int, data: bytes) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO graph(id, generation, data) VALUES (1, ?, ?)", (generation, data)
            )


def _busy(exc: sqlite3.Error) -> bool:
    """SQLITE_BUSY / SQLITE_LOCKED (with their extended codes): a lock held elsewhere."""
    code = getattr(exc, "sqlite_errorcode", None)
    return (code is not None and code & 0xFF in (5, 6)) or "locked" in str(exc) or "busy" in str(exc)
