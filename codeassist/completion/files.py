"""Reading repository files for context: open documents first, then disk (cached by mtime)."""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

log = logging.getLogger(__name__)


class DocumentStore:
    """Repo-relative paths and file lines, with a small LRU of files read from disk."""

    def __init__(self, root: Path | None, max_files: int = 256, max_bytes: int = 1_000_000) -> None:
        self.root = root.resolve() if root is not None else None
        self._max_files = max_files
        self._max_bytes = max_bytes
        self._files: OrderedDict[str, tuple[int, int, list[str]]] = OrderedDict()
        self._relative: dict[str, str] = {}

    def relative(self, path: str) -> str:
        """``path`` relative to the repository root in posix form (unchanged when outside it)."""
        hit = self._relative.get(path)
        if hit is not None:
            return hit
        result = path
        if self.root is not None:
            candidate = Path(path)
            if candidate.is_absolute():
                try:
                    result = candidate.resolve().relative_to(self.root).as_posix()
                except ValueError:
                    result = candidate.as_posix()
            else:
                result = candidate.as_posix()
        if len(self._relative) > 10_000:
            self._relative.clear()
        self._relative[path] = result
        return result

    def lines(self, path: str, open_documents: Mapping[str, str]) -> list[str] | None:
        """The lines of ``path`` (repo-relative), from an open document if there is one."""
        for raw, text in open_documents.items():
            if raw == path or self.relative(raw) == path:
                return text.split("\n")
        full = Path(path) if self.root is None else self.root / path
        try:
            st = os.stat(full)
        except OSError:
            return None
        cached = self._files.get(path)
        if cached is not None and cached[0] == st.st_mtime_ns and cached[1] == st.st_size:
            self._files.move_to_end(path)
            return cached[2]
        if st.st_size > self._max_bytes:
            return None
        try:
            text = full.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            log.debug("cannot read %s for context: %s", full, exc)
            return None
        lines = text.split("\n")
        self._files[path] = (st.st_mtime_ns, st.st_size, lines)
        if len(self._files) > self._max_files:
            self._files.popitem(last=False)
        return lines
