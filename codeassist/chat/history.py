"""Chat history in SQLite (the one module of the chat that speaks SQL).

``<XDG data dir>/codeassist/chat.db`` holds conversations (one per repository session) and their
messages, so ``codeassist chat --resume`` picks up the last conversation of a repository.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from codeassist import paths
from codeassist.errors import CodeassistError

__all__ = ["History", "StoredMessage", "default_history_path"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    repo TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    route TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages(conversation, id);
CREATE INDEX IF NOT EXISTS conversations_by_repo ON conversations(repo, updated);
"""


@dataclass(frozen=True)
class StoredMessage:
    role: str  # "user" or "assistant"
    content: str
    route: str = ""
    model: str = ""


def default_history_path() -> Path:
    return paths.data_dir() / "chat.db"


class History:
    """Conversations and their messages. Opened once per chat; every write commits."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path

    @classmethod
    def open(cls, path: Path | None = None) -> History:
        path = path or default_history_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, check_same_thread=False)
            conn.execute("PRAGMA foreign_keys = ON")
            conn.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise CodeassistError(
                f"Cannot open the chat history {path}: {exc}.",
                hint="Check that the directory is writable, or remove the file to start a new history.",
            ) from exc
        return cls(conn, path)

    def close(self) -> None:
        self._conn.close()

    def new_conversation(self, repo: Path) -> int:
        now = time.time()
        cur = self._write("INSERT INTO conversations (repo, created, updated) VALUES (?, ?, ?)",
                          (str(repo), now, now))
        return int(cur.lastrowid or 0)

    def latest(self, repo: Path) -> int | None:
        """The most recently used conversation of ``repo`` that has messages."""
        row = self._conn.execute(
            "SELECT c.id FROM conversations c WHERE c.repo = ? AND EXISTS "
            "(SELECT 1 FROM messages m WHERE m.conversation = c.id) "
            "ORDER BY c.updated DESC, c.id DESC LIMIT 1",
            (str(repo),),
        ).fetchone()
        return int(row[0]) if row else None

    def append(self, conversation: int, message: StoredMessage) -> None:
        now = time.time()
        self._write(
            "INSERT INTO messages (conversation, role, content, route, model, created) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (conversation, message.role, message.content, message.route, message.model, now),
        )
        if message.role == "user":
            self._write("UPDATE conversations SET title = ? WHERE id = ? AND title = ''",
                        (message.content[:80], conversation))
        self._write("UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation))

    def messages(self, conversation: int) -> list[StoredMessage]:
        rows = self._conn.execute(
            "SELECT role, content, route, model FROM messages WHERE conversation = ? ORDER BY id",
            (conversation,),
        ).fetchall()
        return [StoredMessage(*row) for row in rows]

    def conversations(self, repo: Path, limit: int = 20) -> list[tuple[int, str, float]]:
        """(id, title, updated) of ``repo``'s conversations, newest first."""
        rows = self._conn.execute(
            "SELECT id, title, updated FROM conversations WHERE repo = ? AND title != '' "
            "ORDER BY updated DESC, id DESC LIMIT ?",
            (str(repo), limit),
        ).fetchall()
        return [(int(r[0]), str(r[1]), float(r[2])) for r in rows]

    def _write(self, sql: str, params: tuple[object, ...]) -> sqlite3.Cursor:
        try:
            with self._conn:
                return self._conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise CodeassistError(
                f"Cannot write the chat history {self.path}: {exc}.",
                hint="Check free disk space and permissions; `chat.history = false` turns history off.",
            ) from exc
