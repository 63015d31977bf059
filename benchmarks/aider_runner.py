"""Runs aider's RepoMap inside its own venv (see aider_venv.py); driven by index_bench.py.

Reads a JSON job on stdin, prints JSON timings on stdout. aider gets the same token estimate as
codeassist's default (4 characters per token) through a small model object, so no tokenizer is
downloaded and both sides count the same way.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time


class EstimateModel:
    def token_count(self, text: str) -> int:
        return (len(text) + 3) // 4


class QuietIO:
    def tool_output(self, *args: object, **kwargs: object) -> None:
        pass

    tool_warning = tool_error = tool_output

    def read_text(self, fname: str) -> str | None:
        try:
            with open(fname, encoding="utf-8") as fh:
                return fh.read()
        except (OSError, UnicodeDecodeError):
            return None


def main() -> None:
    from aider.repomap import RepoMap

    job = json.load(sys.stdin)
    root = job["root"]
    files = [os.path.join(root, rel) for rel in job["files"]]
    shutil.rmtree(os.path.join(root, RepoMap.TAGS_CACHE_DIR), ignore_errors=True)
    out: dict[str, object] = {"files": len(files)}

    def new_map() -> RepoMap:
        return RepoMap(map_tokens=job["map_tokens"], root=root, main_model=EstimateModel(), io=QuietIO())

    rm = new_map()
    t0 = time.perf_counter()
    text = rm.get_repo_map([], files) or ""
    out["cold_s"] = time.perf_counter() - t0
    out["cold_map_chars"] = len(text)

    noop = []
    for _ in range(job["noop_runs"]):
        t0 = time.perf_counter()
        for path in files:
            rm.get_tags(path, rm.get_rel_fname(path))
        noop.append(time.perf_counter() - t0)
    out["noop_s"] = noop

    warm = []
    for focus_files, focus_idents in job["focus_sets"]:
        t0 = time.perf_counter()
        rm.get_repo_map(
            [],
            files,
            mentioned_fnames={os.path.join(root, f) for f in focus_files},
            mentioned_idents=set(focus_idents),
            force_refresh=True,
        )
        warm.append(time.perf_counter() - t0)
    out["warm_map_s"] = warm

    updates = []
    for rel in job["update_files"]:
        path = os.path.join(root, rel)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write("\n# edited by the benchmark\n")
        stat = os.stat(path)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        t0 = time.perf_counter()
        rm.get_tags(path, rel)
        updates.append(time.perf_counter() - t0)
    out["update_file_s"] = updates
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
