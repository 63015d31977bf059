"""Reading and parsing files for a scan, in worker processes for cold scans.

A file goes through: stat (in the scanning process) -> read, check, hash, parse (in a worker).
Bad input never stops a scan; each file that cannot be indexed gets one of ``SKIP_REASONS``.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import multiprocessing
import os
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from codeassist.index.treesitter import Parsed, parse

__all__ = ["SKIP_REASONS", "FileResult", "Job", "digest_of", "run_jobs", "stat_file"]

log = logging.getLogger(__name__)

SKIP_REASONS: dict[str, str] = {
    "binary": "binary file (NUL bytes)",
    "too_large": "larger than index.max_file_size",
    "invalid_utf8": "not valid UTF-8",
    "symlink_loop": "symbolic link loop",
    "broken_symlink": "symbolic link to nothing",
    "outside_repo": "symbolic link to a file outside the repository (never read)",
    "unreadable": "cannot be read",
    "vanished": "deleted while the scan ran",
    "not_regular": "not a regular file",
    "unsupported": "no tree-sitter grammar for this file type",
    "bad_name": "file name is not valid UTF-8",
}
_BINARY_SNIFF = 8192
_BATCH = 48
# Starting worker processes costs about a second; below this much source, parse in-process.
_POOL_FROM_BYTES = 2_000_000


@dataclass(slots=True)
class Job:
    path: str
    size: int
    mtime_ns: int
    language: str
    old_digest: str | None


@dataclass(slots=True)
class FileResult:
    path: str
    size: int
    mtime_ns: int
    digest: str | None = None
    language: str | None = None
    skip: str | None = None
    detail: str = ""
    parsed: Parsed | None = None
    unchanged: bool = False  # same content hash as stored: nothing to re-parse


def digest_of(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def stat_file(root: Path | str, path: str, max_size: int) -> tuple[os.stat_result | None, str | None, str]:
    """(stat, skip reason, detail) of one listed file of a known language; (None, None, "") when gone."""
    full = f"{root}/{path}"
    try:
        st = os.stat(full)
    except FileNotFoundError:
        if os.path.islink(full):
            return None, "broken_symlink", os.readlink(full)
        return None, None, ""
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None, "symlink_loop", exc.strerror or ""
        return None, "unreadable", exc.strerror or str(exc)
    if not stat.S_ISREG(st.st_mode):
        return st, "not_regular", ""
    if os.path.islink(full):  # content from outside the repository never enters the index
        target = os.path.realpath(full)
        real_root = os.path.realpath(root)
        if os.path.commonpath([real_root, target]) != real_root:
            return st, "outside_repo", f"a link to {target}"
    if st.st_size > max_size:
        return st, "too_large", f"{st.st_size} bytes > {max_size}"
    return st, None, ""


def process(root: str, job: Job, max_size: int) -> FileResult:
    """Read, check, hash and (when the content changed) parse one file."""
    result = FileResult(job.path, job.size, job.mtime_ns, language=job.language)
    try:
        with open(os.path.join(root, job.path), "rb") as fh:
            data = fh.read(max_size + 1)
    except FileNotFoundError:
        result.skip = "vanished"
        return result
    except OSError as exc:
        result.skip, result.detail = "unreadable", exc.strerror or str(exc)
        return result
    if len(data) > max_size:
        result.skip, result.detail = "too_large", f"more than {max_size} bytes"
        return result
    if b"\0" in data[:_BINARY_SNIFF]:
        result.skip = "binary"
        return result
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        result.skip, result.detail = "invalid_utf8", f"bad byte at offset {exc.start}"
        return result
    result.digest = digest_of(data)
    if result.digest == job.old_digest:
        result.unchanged = True
        return result
    result.parsed = parse(job.language, data, text)
    result.parsed.ref_rows()  # grouped and packed here, in the worker: the writer only inserts
    result.parsed.refs = []  # travels packed only
    return result


def _process_batch(root: str, jobs: Sequence[Job], max_size: int) -> list[FileResult]:
    return [process(root, job, max_size) for job in jobs]


def _pool_context() -> multiprocessing.context.BaseContext:
    # fork is unsafe in threaded programs (the language server); forkserver/spawn are not.
    method = "forkserver" if sys.platform != "win32" and sys.platform != "darwin" else "spawn"
    return multiprocessing.get_context(method)


def run_jobs(
    root: Path,
    jobs: Sequence[Job],
    max_size: int,
    workers: int,
    progress: Callable[[int], None] | None = None,
) -> Iterator[FileResult]:
    """Process ``jobs``, in ``workers`` processes when there are enough; yields as they finish."""
    done = 0
    if workers <= 1 or len(jobs) < 2 * workers or sum(job.size for job in jobs) < _POOL_FROM_BYTES:
        for job in jobs:
            yield process(str(root), job, max_size)
            done += 1
            if progress is not None:
                progress(done)
        return
    batches = [jobs[i : i + _BATCH] for i in range(0, len(jobs), _BATCH)]
    finished: set[int] = set()
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context()) as pool:
            futures: dict[Future[list[FileResult]], int] = {
                pool.submit(_process_batch, str(root), batch, max_size): n for n, batch in enumerate(batches)
            }
            for future in as_completed(futures):
                results = future.result()
                finished.add(futures[future])
                yield from results
                done += len(results)
                if progress is not None:
                    progress(done)
    except BrokenProcessPool as exc:
        log.warning("Worker processes failed (%s); parsing the remaining files in this process.", exc)
        for n, batch in enumerate(batches):
            if n in finished:
                continue
            for result in _process_batch(str(root), batch, max_size):
                yield result
                done += 1
                if progress is not None:
                    progress(done)


def default_workers(configured: int) -> int:
    if configured > 0:
        return configured
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
