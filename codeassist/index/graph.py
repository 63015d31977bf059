"""The definition/reference graph and its personalised PageRank (numpy, no SQL, no parsing).

Nodes are files and identifiers: a file points to each identifier it references (weight
``sqrt(count)`` times the identifier's multiplier) and an identifier points to each file that
defines it. Ranking an identifier node ranks its definitions; ranking a file node ranks the
files. This bipartite form keeps the edge count linear in the references (a file-to-file graph
has referencers x definers edges per name) so one PageRank on ~10k files takes milliseconds.

The graph is kept in memory by the index, patched per file on edits, and persisted (``to_bytes``)
with the index generation it reflects, so a map never rebuilds it from scratch when nothing changed.
"""

from __future__ import annotations

import builtins
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Graph", "Ranking"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
_DAMPING = 0.85
_FORMAT = 2
_BUILTINS = frozenset(name for name in dir(builtins) if not name.startswith("_"))
# Measured on ~7k files: after 20 steps 99.7% of the top 300 definitions are those of the fully
# converged order (30 steps: 100%), while convergence to 1e-5 takes ~75 steps.
_MAX_ITER = 20
_TOLERANCE = 1e-3
_LONG_NAME = re.compile(
    r"^(?=.{8,})(?:[a-z0-9]+(?:_[a-z0-9]+)+|[a-z0-9]+(?:[A-Z][a-z0-9]+)+|[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)+)$"
)


@dataclass
class Ranking:
    def_ids: I64  # database ids of definitions, best first
    def_scores: F64


@dataclass
class _Prepared:
    src: I64
    dst: I64
    weight: F64
    n_ref_edges: int  # the first n edges are file -> identifier references
    idle_pairs: tuple[I64, I64]  # (identifier, file) definitions that nobody references
    def_files_per_ident: F64
    alive: npt.NDArray[np.bool_]  # file slots still in use


class Graph:
    def __init__(self, generation: int = 0) -> None:
        self.generation = generation
        self.paths: list[str] = []  # file index -> path ("" once removed)
        self._file_index: dict[str, int] = {}
        self.idents: list[str] = []
        self._ident_index: dict[str, int] = {}
        self._ident_mul: list[float] = []  # per identifier: name-based weight (see _multiplier)
        self.r_file = np.zeros(0, np.int64)
        self.r_ident = np.zeros(0, np.int64)
        self.r_count = np.zeros(0, np.float64)
        self.d_id = np.zeros(0, np.int64)
        self.d_file = np.zeros(0, np.int64)
        self.d_ident = np.zeros(0, np.int64)
        self._prepared: _Prepared | None = None

    # -- building and patching -----------------------------------------------------------------
    @classmethod
    def build(
        cls,
        generation: int,
        files: Sequence[tuple[int, str]],
        refcounts: Iterable[tuple[int, str, int]],
        defs: Iterable[tuple[int, int, str]],
    ) -> Graph:
        graph = cls(generation)
        by_db_id = {db_id: graph._file(path) for db_id, path in files}
        ref_rows = [(by_db_id[f], graph._ident(name), n) for f, name, n in refcounts if f in by_db_id]
        def_rows = [(d, by_db_id[f], graph._ident(name)) for d, f, name in defs if f in by_db_id]
        graph._set_arrays(ref_rows, def_rows)
        return graph

    def _file(self, path: str) -> int:
        index = self._file_index.get(path)
        if index is None:
            index = self._file_index[path] = len(self.paths)
            self.paths.append(path)
        return index

    def _ident(self, name: str) -> int:
        index = self._ident_index.get(name)
        if index is None:
            index = self._ident_index[name] = len(self.idents)
            self.idents.append(name)
            self._ident_mul.append(_multiplier(name))
        return index

    def _set_arrays(self, ref_rows: list[tuple[int, int, int]], def_rows: list[tuple[int, int, int]]) -> None:
        refs = np.array(ref_rows, np.int64).reshape(-1, 3)
        defs = np.array(def_rows, np.int64).reshape(-1, 3)
        self.r_file, self.r_ident, self.r_count = refs[:, 0], refs[:, 1], refs[:, 2].astype(np.float64)
        self.d_id, self.d_file, self.d_ident = defs[:, 0], defs[:, 1], defs[:, 2]
        self._prepared = None

    def patch(
        self, files: Sequence[tuple[str, Sequence[tuple[str, int]] | None, Sequence[tuple[int, str]]]]
    ) -> None:
        """Swap the edges of a few files at once: (path, refcounts or None when gone, definitions)."""
        touched = [self._file_index[path] for path, _, _ in files if path in self._file_index]
        if touched:
            drop = np.asarray(touched, np.int64)
            keep_r = ~np.isin(self.r_file, drop)
            keep_d = ~np.isin(self.d_file, drop)
            self.r_file, self.r_ident, self.r_count = (
                self.r_file[keep_r],
                self.r_ident[keep_r],
                self.r_count[keep_r],
            )
            self.d_id, self.d_file, self.d_ident = (
                self.d_id[keep_d],
                self.d_file[keep_d],
                self.d_ident[keep_d],
            )
        new_refs: list[tuple[int, int, int]] = []
        new_defs: list[tuple[int, int, int]] = []
        for path, refcounts, defs in files:
            if refcounts is None:  # deleted, renamed or skipped now: the slot stays empty
                index = self._file_index.pop(path, None)
                if index is not None:
                    self.paths[index] = ""
                continue
            index = self._file(path)
            new_refs += [(index, self._ident(name), count) for name, count in refcounts]
            new_defs += [(def_id, index, self._ident(name)) for def_id, name in defs]
        refs = np.array(new_refs, np.int64).reshape(-1, 3)
        added = np.array(new_defs, np.int64).reshape(-1, 3)
        self.r_file = np.concatenate([self.r_file, refs[:, 0]])
        self.r_ident = np.concatenate([self.r_ident, refs[:, 1]])
        self.r_count = np.concatenate([self.r_count, refs[:, 2].astype(np.float64)])
        self.d_id = np.concatenate([self.d_id, added[:, 0]])
        self.d_file = np.concatenate([self.d_file, added[:, 1]])
        self.d_ident = np.concatenate([self.d_ident, added[:, 2]])
        self._prepared = None

    def file_index(self, path: str) -> int | None:
        return self._file_index.get(path)

    def ident_index(self, name: str) -> int | None:
        return self._ident_index.get(name)

    # -- persistence ---------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        names = json.dumps(
            {"format": _FORMAT, "paths": self.paths, "idents": self.idents, "generation": self.generation}
        )
        np.savez(
            buf,
            names=np.frombuffer(names.encode("utf-8"), np.uint8),
            r_file=self.r_file,
            r_ident=self.r_ident,
            r_count=self.r_count,
            d_id=self.d_id,
            d_file=self.d_file,
            d_ident=self.d_ident,
            ident_mul=np.asarray(self._ident_mul, np.float64),
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Graph | None:
        """The graph ``to_bytes`` wrote, or None when ``data`` is damaged or of another format."""
        try:
            return cls._from_bytes(data)
        except (KeyError, ValueError, OSError, EOFError):
            return None

    @classmethod
    def _from_bytes(cls, data: bytes) -> Graph:
        with np.load(io.BytesIO(data)) as arrays:
            names = json.loads(arrays["names"].tobytes().decode("utf-8"))
            if names.get("format") != _FORMAT:
                raise ValueError("another graph format")
            graph = cls(int(names["generation"]))
            graph.paths = list(names["paths"])
            graph._file_index = {p: i for i, p in enumerate(graph.paths) if p}
            graph.idents = list(names["idents"])
            graph._ident_index = {n: i for i, n in enumerate(graph.idents)}
            graph._ident_mul = arrays["ident_mul"].tolist()
            graph.r_file, graph.r_ident, graph.r_count = (
                arrays["r_file"],
                arrays["r_ident"],
                arrays["r_count"],
            )
            graph.d_id, graph.d_file, graph.d_ident = arrays["d_id"], arrays["d_file"], arrays["d_ident"]
        return graph

    # -- ranking -------------------------------------------------------------------------------
    def _prepare(self) -> _Prepared:
        if self._prepared is not None:
            return self._prepared
        n_files, n_idents = max(len(self.paths), 1), len(self.idents)
        keys = np.sort(self.d_ident * n_files + self.d_file)
        pairs = keys[np.concatenate([[True], keys[1:] != keys[:-1]])] if len(keys) else keys
        pair_ident, pair_file = pairs // n_files, pairs % n_files
        def_files = np.bincount(pair_ident, minlength=n_idents).astype(np.float64)
        mul = np.asarray(self._ident_mul, np.float64).reshape(-1)
        mul[def_files > 5] *= 0.1
        has_def = def_files[self.r_ident] > 0
        r_file, r_ident = self.r_file[has_def], self.r_ident[has_def]
        referenced = np.bincount(r_ident, minlength=n_idents) > 0
        used = referenced[pair_ident]  # definitions nobody references carry no rank: no edges
        self._prepared = _Prepared(
            src=np.concatenate([r_file, len(self.paths) + pair_ident[used]]),
            dst=np.concatenate([len(self.paths) + r_ident, pair_file[used]]),
            weight=np.concatenate([np.sqrt(self.r_count[has_def]) * mul[r_ident], np.ones(int(used.sum()))]),
            n_ref_edges=len(r_file),
            idle_pairs=(pair_ident[~used], pair_file[~used]),
            def_files_per_ident=np.maximum(def_files, 1.0),
            alive=np.array([bool(p) for p in self.paths], bool),
        )
        return self._prepared

    def rank(
        self, focus_files: Sequence[int] = (), focus_idents: Sequence[int] = (), limit: int | None = None
    ) -> Ranking:
        """The (first ``limit``) definitions by personalised PageRank (focus gets the teleport mass)."""
        n_files, n_idents = len(self.paths), len(self.idents)
        size = n_files + n_idents
        if size == 0 or len(self.d_id) == 0:
            return Ranking(np.zeros(0, np.int64), np.zeros(0, np.float64))
        prep = self._prepare()
        src, dst, weight = prep.src, prep.dst, prep.weight
        focus_i = np.asarray(sorted(set(focus_idents)), np.int64)
        if len(focus_i):
            boost = np.zeros(len(weight), bool)
            boost[: prep.n_ref_edges] = np.isin(dst[: prep.n_ref_edges], focus_i + n_files)
            weight = np.where(boost, weight * 10.0, weight)
            idle_ident, idle_file = prep.idle_pairs
            extra = np.isin(idle_ident, focus_i)  # a focused name nobody references yet
            src = np.concatenate([src, n_files + idle_ident[extra]])
            dst = np.concatenate([dst, idle_file[extra]])
            weight = np.concatenate([weight, np.ones(int(extra.sum()))])
        personal = self._personalisation(size, prep.alive, focus_files, focus_i)
        ranks = _pagerank(src, dst, weight, personal, size)
        ident_rank = ranks[n_files:] / prep.def_files_per_ident
        scores = ident_rank[self.d_ident] + 1e-3 * ranks[self.d_file]
        if limit is not None and limit < len(scores):
            top = np.argpartition(-scores, limit)[:limit]
            order = top[np.argsort(-scores[top], kind="stable")]
        else:
            order = np.argsort(-scores, kind="stable")
        return Ranking(self.d_id[order], scores[order])

    def _personalisation(
        self, size: int, alive: npt.NDArray[np.bool_], focus_files: Sequence[int], focus_idents: I64
    ) -> F64:
        personal = np.zeros(size, np.float64)
        personal[: len(self.paths)][alive] = 1.0
        if len(focus_files) or len(focus_idents):
            personal *= 0.01
            boost = personal.sum() * 10.0 + 1.0
            for index in set(focus_files):
                personal[index] += boost / max(len(focus_files), 1)
            personal[len(self.paths) + focus_idents] += boost / max(len(focus_idents), 1)
        total = personal.sum()
        return personal / total if total > 0 else np.full(size, 1.0 / size)


def _multiplier(name: str) -> float:
    if name.startswith("_"):
        return 0.1
    if name in _BUILTINS:  # `len(x)` calls the builtin even where some file defines a `len`
        return 0.01
    if _LONG_NAME.match(name):
        return 10.0
    return 1.0


def _pagerank(src: I64, dst: I64, weight: F64, personal: F64, size: int) -> F64:
    """Power iteration until the ranks move less than _TOLERANCE (L1) in one step."""
    out_weight = np.bincount(src, weights=weight, minlength=size)
    dangling = np.flatnonzero(out_weight == 0)
    norm = weight / np.where(out_weight[src] > 0, out_weight[src], 1.0)
    ranks = personal.copy()
    for _ in range(_MAX_ITER):
        spread = np.bincount(dst, weights=ranks[src] * norm, minlength=size)
        new = _DAMPING * (spread + float(ranks[dangling].sum()) * personal) + (1.0 - _DAMPING) * personal
        delta = float(np.abs(new - ranks).sum())
        ranks = new
        if delta < _TOLERANCE:
            break
    return ranks
