"""``RepoIndex``: the repository index the completion engine, language server, chat and refactor
planner read. See ``docs/index.md``.

Thread safety: every method may be called from any thread (the store serialises its short
transactions behind a lock, and the graph state here has its own lock). The methods block:
an asyncio program calls ``update`` through ``asyncio.to_thread``; ``update_file`` and the
queries are cheap enough to call from handlers directly.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from pathlib import Path
from types import TracebackType

from codeassist.config import IndexSettings
from codeassist.errors import IndexCorruptError, UsageError
from codeassist.index import files as repo_files
from codeassist.index.graph import Graph
from codeassist.index.languages import language_for_path
from codeassist.index.models import Reference, RepoMap, ScanSummary, Skipped, Symbol
from codeassist.index.repomap import TokenCounter, estimate_tokens, fit
from codeassist.index.scan import FileResult, Job, default_workers, digest_of, run_jobs, stat_file
from codeassist.index.store import FileRow, FileWrite, Store
from codeassist.index.treesitter import parse
from codeassist.paths import REPO_DIR_NAME

__all__ = ["RepoIndex"]

log = logging.getLogger(__name__)
ProgressCallback = Callable[[int, int], None]
_WRITE_CHUNK = 256
_READ_TIME_SKIPS = frozenset({"binary", "invalid_utf8", "too_large"})
_PATCH_LIMIT = 200  # more changed files than this: rebuild the graph instead of patching it
_BULK_FROM = 500  # a cold scan of at least this many files loads without secondary indexes


class RepoIndex:
    def __init__(self, root: Path, settings: IndexSettings, store: Store) -> None:
        self.root = root
        self.settings = settings
        self._store = store
        self._lock = threading.RLock()
        # The graph is `_graph` (or the persisted graph of generation `_base` when not loaded) plus
        # the edges of the `_pending` files, together reflecting index generation `_known`.
        self._graph: Graph | None = None
        self._base: int | None = None
        self._pending: dict[str, None] = {}
        self._known: int | None = None
        self._graph_dirty = False
        self._closed = False

    @classmethod
    def open(cls, root: str | Path, settings: IndexSettings | None = None) -> RepoIndex:
        """Open (or create) ``<root>/.codeassist/index.db``; call ``update()`` to scan."""
        resolved = Path(root).expanduser().resolve()
        if not resolved.is_dir():
            raise UsageError(f"{root} is not a directory.", hint="Pass the repository's directory.")
        repo_files.ensure_git_excludes(resolved)
        return cls(resolved, settings or IndexSettings(), Store(resolved / REPO_DIR_NAME / "index.db"))

    def __enter__(self) -> RepoIndex:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Persist a graph patched by ``update_file`` and close the database (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._pending and self._known == self._store.generation():
                self._current_graph()  # apply the pending edits so the next process loads them
            if self._graph is not None and self._graph_dirty:
                self._store.save_graph(self._graph.generation, self._graph.to_bytes())
                self._graph_dirty = False
            self._store.close()

    def rebuild(self) -> None:
        """Forget everything indexed; the next ``update()`` scans every file again."""
        with self._lock:
            self._store.rebuild()
            self._graph, self._known, self._graph_dirty = None, None, False
            self._pending.clear()

    def rel(self, path: str | Path) -> str:
        """``path`` (absolute inside the repo, or repo-relative) as a repo-relative posix string."""
        rel = self._inside(path)
        if rel is None:
            raise UsageError(
                f"{path} is outside the repository {self.root}.",
                hint="Pass a path inside the repository, or run from the right repository (-C).",
            )
        return rel

    def _inside(self, path: str | Path) -> str | None:
        candidate = Path(path)
        if not candidate.is_absolute():
            candidate = self.root / candidate
        for form in (candidate, candidate.resolve()):
            try:
                rel = form.relative_to(self.root).as_posix()
            except ValueError:
                continue
            if rel != "." and ".." not in rel.split("/"):
                return rel
        return None

    # -- scanning ------------------------------------------------------------------------------
    def update(self, progress: ProgressCallback | None = None) -> ScanSummary:
        """Bring the index up to date with the files on disk; returns what the scan did."""
        try:
            return self._update(progress)
        except IndexCorruptError as exc:
            log.warning("%s Rebuilding the index.", exc.message)
            self.rebuild()
            return self._update(progress)

    def _update(self, progress: ProgressCallback | None) -> ScanSummary:
        started = time.perf_counter()
        summary = ScanSummary()
        listed = repo_files.list_files(self.root, self.settings.extra_ignore)
        stored = self._store.file_rows()
        generation_before = self._store.generation()
        jobs, writes, present = self._plan(listed, stored, summary)
        if progress is not None:
            progress(0, len(jobs))
        changed = [write.path for write in writes]
        removed = [path for path in stored if path not in present]
        summary.removed = len(removed)
        self._store.write([], removed)
        workers = default_workers(self.settings.workers)
        results = run_jobs(
            self.root,
            jobs,
            self.settings.max_file_size,
            workers,
            None if progress is None else lambda done: progress(done, len(jobs)),
        )
        bulk = not stored and len(jobs) >= _BULK_FROM
        chunk = _WRITE_CHUNK * 4 if bulk else _WRITE_CHUNK
        with self._store.bulk_load() if bulk else nullcontext():
            for result in results:
                writes.append(self._account(result, summary, changed))
                if len(writes) >= chunk:
                    self._store.write(writes, [], new=bulk)
                    writes = []
            self._store.write(writes, [], new=bulk)
        self._refresh_graph(generation_before, changed, removed)
        summary.total_indexed, summary.definitions, summary.references = self._store.counts()
        summary.skipped_files.sort(key=lambda s: s.path)
        summary.seconds = time.perf_counter() - started
        return summary

    def _plan(
        self, listed: Sequence[str], stored: dict[str, FileRow], summary: ScanSummary
    ) -> tuple[list[Job], list[FileWrite], set[str]]:
        jobs: list[Job] = []
        writes: list[FileWrite] = []
        present: set[str] = set()
        max_size = self.settings.max_file_size
        for path in listed:
            language = language_for_path(path)
            if language is None:
                summary.skipped["unsupported"] = summary.skipped.get("unsupported", 0) + 1
                continue
            if not _encodable(path):  # git/os hand such names over with surrogate escapes
                summary.files += 1
                shown = path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                self._skip(summary, shown, "bad_name", "rename it to index it")
                continue
            st, skip, detail = stat_file(self.root, path, max_size)
            if st is None and skip is None:
                continue  # gone before we looked: treated as deleted
            summary.files += 1
            present.add(path)
            size, mtime = (st.st_size, st.st_mtime_ns) if st is not None else (-1, -1)
            row = stored.get(path)
            same_stat = row is not None and row.size == size and row.mtime_ns == mtime
            if skip is None and same_stat and row is not None and row.skip in _READ_TIME_SKIPS:
                skip, detail = row.skip, row.detail
            if skip is not None:
                self._skip(summary, path, skip, detail)
                if not (same_stat and row is not None and row.skip == skip):
                    writes.append(FileWrite(path, size, mtime, None, language, skip, detail))
            elif same_stat and row is not None and row.skip is None:
                summary.unchanged += 1
            else:
                old = row.digest if row is not None and row.skip is None else None
                jobs.append(Job(path, size, mtime, language, old))
        jobs.sort(key=lambda j: -j.size)
        return jobs, writes, present

    @staticmethod
    def _skip(summary: ScanSummary, path: str, reason: str, detail: str) -> None:
        summary.skipped[reason] = summary.skipped.get(reason, 0) + 1
        summary.skipped_files.append(Skipped(path, reason, detail))

    def _account(self, result: FileResult, summary: ScanSummary, changed: list[str]) -> FileWrite:
        if result.skip is not None:
            if result.skip == "vanished":
                summary.files -= 1
            self._skip(summary, result.path, result.skip, result.detail)
            changed.append(result.path)
        elif result.unchanged:
            summary.unchanged += 1
        else:
            summary.indexed += 1
            changed.append(result.path)
        return FileWrite(
            result.path,
            result.size,
            result.mtime_ns,
            result.digest,
            result.language,
            result.skip,
            result.detail,
            result.parsed,
        )

    # -- one file's in-memory text -------------------------------------------------------------
    def update_file(self, path: str | Path, text: str) -> None:
        """Re-index one file from its in-memory text (unsaved editor buffers). Cheap: one parse.

        Files outside the repository or of unsupported languages are ignored.
        """
        rel = self._inside(path)
        language = language_for_path(rel) if rel is not None else None
        if rel is None or language is None:
            return
        data = text.encode("utf-8", "surrogatepass")
        if len(data) > self.settings.max_file_size:
            item = FileWrite(rel, -1, -1, None, language, "too_large", f"{len(data)} bytes in the editor")
        else:
            # size/mtime -1: the next scan compares the disk's content hash with this text's.
            item = FileWrite(rel, -1, -1, digest_of(data), language, parsed=parse(language, data, text))
        with self._lock:
            before = self._store.generation()
            if not self._store.write([item], []):
                return
            self._refresh_graph(before, [rel], [])

    # -- queries -------------------------------------------------------------------------------
    def symbols(self, query: str, limit: int = 50) -> list[Symbol]:
        """Definitions whose name starts with ``query`` (case-insensitive); exact matches first."""
        return [Symbol(*row) for row in self._store.symbols(query, limit)] if query else []

    def definitions(self, name: str) -> list[Symbol]:
        return [Symbol(*row) for row in self._store.definitions(name)]

    def references(self, name: str) -> list[Reference]:
        return [Reference(*row) for row in self._store.references(name)]

    def outline(self, path: str | Path) -> list[Symbol]:
        """The file's definitions in source order ([] for files not indexed or outside the repo)."""
        rel = self._inside(path)
        return [Symbol(*row) for row in self._store.outline(rel)] if rel is not None else []

    def imports(self, path: str | Path) -> list[str]:
        """Modules the file imports, as written ([] for files not indexed or outside the repo)."""
        rel = self._inside(path)
        return self._store.imports(rel) if rel is not None else []

    # -- the repository map --------------------------------------------------------------------
    def repo_map(
        self,
        tokens: int | None = None,
        focus_files: Iterable[str | Path] = (),
        focus_idents: Iterable[str] = (),
        *,
        count_tokens: TokenCounter | None = None,
    ) -> RepoMap:
        """Signatures of the most relevant definitions, within ``tokens`` (default index.map_tokens).

        Relevance: PageRank over the definition/reference graph, personalised by the focus files
        and identifiers. Tokens: ``count_tokens`` or the estimate of ``repomap.estimate_tokens``.
        """
        budget = self.settings.map_tokens if tokens is None else tokens
        with self._lock:
            graph = self._current_graph()
            rels = [rel for rel in (self._inside(p) for p in focus_files) if rel is not None]
            file_ids = [i for i in (graph.file_index(rel) for rel in rels) if i is not None]
            ident_ids = [i for i in (graph.ident_index(n) for n in focus_idents) if i is not None]
            ranking = graph.rank(file_ids, ident_ids, limit=max(64, budget // 2))
        candidates = [int(i) for i in ranking.def_ids]
        rows_by_id = self._store.defs_by_id(candidates)
        rows = [rows_by_id[i] for i in candidates if i in rows_by_id]
        return fit(rows, budget, count_tokens or estimate_tokens)

    def _current_graph(self) -> Graph:
        """The graph for the index's current generation: cached, persisted+patched, or rebuilt."""
        generation = self._store.generation()
        graph = self._graph
        if self._known == generation and graph is None:
            graph = self._saved_graph(self._base)  # the persisted graph the pending edits apply to
        if self._known == generation and graph is not None:
            if self._pending:
                graph.patch([(path, *self._file_edges(path)) for path in self._pending])
                self._pending.clear()
                self._graph_dirty = True
            graph.generation = generation
            self._graph = graph
            return graph
        graph = self._saved_graph(generation)
        if graph is None:
            graph = Graph.build(generation, *self._store.graph_rows())
            self._store.save_graph(generation, graph.to_bytes())
        self._graph, self._graph_dirty, self._known = graph, False, generation
        self._pending.clear()
        return graph

    def _file_edges(self, path: str) -> tuple[list[tuple[str, int]] | None, list[tuple[int, str]]]:
        file_id, refcounts, defs = self._store.file_graph_rows(path)
        return (None, []) if file_id is None else (refcounts, defs)

    def _saved_graph(self, generation: int | None) -> Graph | None:
        """The persisted graph when it reflects ``generation``."""
        saved = self._store.load_graph()
        if generation is None or saved is None or saved[0] != generation:
            return None
        return Graph.from_bytes(saved[1])

    def _refresh_graph(self, before: int, changed: Sequence[str], removed: Sequence[str]) -> None:
        """Note a few changed files for a later patch (cheap), or rebuild the graph for many.

        ``update_file`` runs on every edit and maps are rare: the edits are patched into the
        graph when the next map needs it (or at ``close``), all at once.
        """
        with self._lock:
            after = self._store.generation()
            if after == before:
                return
            if len(changed) + len(removed) > _PATCH_LIMIT:
                self._graph = Graph.build(after, *self._store.graph_rows())
                self._store.save_graph(after, self._graph.to_bytes())
                self._graph_dirty, self._known = False, after
                self._pending.clear()
                return
            if (
                self._known != before
            ):  # unknown state: pending edits on top of the graph persisted at `before`
                self._graph, self._base = None, before
                self._pending.clear()
            self._pending.update(dict.fromkeys([*removed, *changed]))
            self._known = after


def _encodable(path: str) -> bool:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
