"""Benchmark: codeassist's index and repo map side by side with aider's RepoMap, same files, same run.

Corpus: the running interpreter's standard library plus a site-packages tree (default: this
interpreter's), ``.py`` files copied into a work directory, capped at ``--files``. Measured:

- cold index: codeassist ``update()`` on an empty index (and to the first map) vs aider's first
  ``get_repo_map`` with an empty tags cache (files/s on the same file list);
- no-op re-index: ``update()`` with nothing changed vs aider re-reading its tags cache for every file;
- single-file update: ``update_file(path, text)`` vs aider's ``get_tags`` after the file changed;
- warm repo map with a different focus each time (files + identifiers) vs aider's ``get_repo_map``
  with other mentioned files/identifiers.

aider runs in its own venv (``benchmarks/aider_venv.py``) in a subprocess. Both count tokens as
4 characters per token. Run:  .venv/bin/python benchmarks/index_bench.py [--files 10000]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aider_venv

from codeassist.config import IndexSettings
from codeassist.index import RepoIndex


def build_corpus(dest: Path, max_files: int, site_packages: Path, as_git: bool = True) -> list[str]:
    """Copy stdlib + site-packages ``.py`` files (sorted, capped) into ``dest``; repo-relative paths."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    picked: list[tuple[Path, str]] = []
    for path in sorted(stdlib.rglob("*.py")):
        if "site-packages" not in path.parts:
            picked.append((path, "stdlib/" + path.relative_to(stdlib).as_posix()))
    for path in sorted(site_packages.rglob("*.py")):
        picked.append((path, "site-packages/" + path.relative_to(site_packages).as_posix()))
    picked = [(src, rel) for src, rel in picked if src.is_file() and not src.is_symlink()][:max_files]
    if dest.exists():
        shutil.rmtree(dest)
    for src, rel in picked:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
    if as_git:  # like a real project: codeassist lists files with git; aider gets the list directly
        for cmd in (
            ["init", "-q"],
            ["add", "-A"],
            ["-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-q", "-m", "corpus"],
        ):
            subprocess.run(["git", "-C", str(dest), *cmd], check=True, capture_output=True)
    settle()
    return [rel for _, rel in picked]


def settle() -> None:
    """Flush the freshly written corpus to disk before timing anything: otherwise the kernel's
    write-back of ~100 MB runs during the first measurement (and stalls its fsyncs) but not the
    later ones, which favours whichever tool runs second."""
    os.sync()
    time.sleep(2)


def stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
    return {"median": statistics.median(ordered), "p95": p95, "min": ordered[0], "n": len(ordered)}


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def focus_sets(
    index: RepoIndex, files: list[str], count: int, rng: random.Random
) -> list[tuple[list[str], list[str]]]:
    sets = []
    while len(sets) < count:
        focus_files = rng.sample(files, 2)
        names = [s.name for s in index.outline(rng.choice(files)) if not s.name.startswith("_")]
        if names:
            sets.append((focus_files, rng.sample(names, min(3, len(names)))))
    return sets


def bench_codeassist(
    root: Path, files: list[str], args: argparse.Namespace, rng: random.Random
) -> tuple[dict[str, Any], list[Any], list[str]]:
    shutil.rmtree(root / ".codeassist", ignore_errors=True)
    out: dict[str, Any] = {}
    index = RepoIndex.open(root, IndexSettings(workers=args.workers))
    cold_update, summary = timed(index.update)
    cold_map, first = timed(index.repo_map, args.tokens)
    out["cold_update_s"], out["cold_first_map_s"] = cold_update, cold_map
    out["cold_files_per_s"] = summary.files / cold_update
    out["cold_to_map_files_per_s"] = summary.files / (cold_update + cold_map)
    out["summary"] = {k: v for k, v in summary.to_json().items() if k != "skipped_files"}
    out["noop_s"] = [timed(index.update)[0] for _ in range(args.noop_runs)]
    sets = focus_sets(index, files, args.map_runs, rng)
    out["warm_map_same_focus_s"] = [timed(index.repo_map, args.tokens, *sets[0])[0] for _ in range(5)]
    out["warm_map_s"] = [timed(index.repo_map, args.tokens, ff, fi)[0] for ff, fi in sets]
    updates = rng.sample(files, args.update_runs)
    update_times, map_after = [], []
    for rel in updates:
        text = (root / rel).read_text(encoding="utf-8") + "\n# edited by the benchmark\n"
        update_times.append(timed(index.update_file, rel, text)[0])
        map_after.append(timed(index.repo_map, args.tokens, *rng.choice(sets))[0])
    out["update_file_s"], out["map_after_update_s"] = update_times, map_after
    index.close()
    out["fresh_process_map_s"] = [
        fresh_process_map(root, args.tokens, *sets[i % len(sets)]) for i in range(3)
    ]
    out["first_map_lines"] = first.text.splitlines()[:12]
    return out, sets, updates


def fresh_process_map(root: Path, tokens: int, focus_files: list[str], focus_idents: list[str]) -> float:
    """Open the index in a new interpreter and render one map (persisted graph): seconds inside it."""
    code = (
        "import json, sys, time\nt = time.perf_counter()\nfrom codeassist.index import RepoIndex\n"
        "i = RepoIndex.open(sys.argv[1])\ni.repo_map(int(sys.argv[2]), json.loads(sys.argv[3]), "
        "json.loads(sys.argv[4]))\nprint(time.perf_counter() - t)\n"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            str(root),
            str(tokens),
            json.dumps(focus_files),
            json.dumps(focus_idents),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def bench_aider(
    root: Path, files: list[str], sets: list[Any], updates: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    python = aider_venv.ensure()
    settle()
    job = {
        "root": str(root),
        "files": files,
        "map_tokens": args.tokens,
        "noop_runs": 1,
        "focus_sets": sets[: args.aider_map_runs],
        "update_files": updates[: args.aider_update_runs],
    }
    runner = Path(__file__).resolve().parent / "aider_runner.py"
    done = subprocess.run([str(python), str(runner)], input=json.dumps(job), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"aider's RepoMap failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    result["cold_files_per_s"] = len(files) / result["cold_s"]
    return result


def report(ours: dict[str, Any], aider: dict[str, Any] | None, n_files: int) -> list[str]:
    def line(label: str, values: list[float], other: list[float] | None = None) -> str:
        s = stats(values)
        text = f"{label:<38} median {s['median'] * 1000:9.1f} ms  p95 {s['p95'] * 1000:9.1f} ms  (n={s['n']})"
        if other:
            o = stats(other)
            text += (
                f"   aider median {o['median'] * 1000:9.1f} ms  p95 {o['p95'] * 1000:9.1f} ms (n={o['n']})"
            )
            text += f"   ratio {o['median'] / s['median']:.1f}x"
        return text

    lines = [
        f"corpus: {n_files} files; indexed {ours['summary']['total_indexed']}, "
        f"{ours['summary']['definitions']} definitions, {ours['summary']['references']} references, "
        f"skipped {ours['summary']['skipped']}"
    ]
    cold = (
        f"cold index: codeassist update {ours['cold_update_s']:.1f} s "
        f"({ours['cold_files_per_s']:.0f} files/s), "
        f"+ first map {ours['cold_first_map_s']:.2f} s -> {ours['cold_to_map_files_per_s']:.0f} files/s"
    )
    if aider:
        cold += (
            f"; aider first map {aider['cold_s']:.1f} s ({aider['cold_files_per_s']:.1f} files/s); ratio "
            f"{ours['cold_files_per_s'] / aider['cold_files_per_s']:.1f}x (to first map "
            f"{ours['cold_to_map_files_per_s'] / aider['cold_files_per_s']:.1f}x)"
        )
    lines.append(cold)
    lines.append(line("no-op re-index", ours["noop_s"], aider["noop_s"] if aider else None))
    lines.append(
        line("update_file (one file)", ours["update_file_s"], aider["update_file_s"] if aider else None)
    )
    lines.append(
        line("warm map, focus changes each time", ours["warm_map_s"], aider["warm_map_s"] if aider else None)
    )
    lines.append(line("warm map, same focus", ours["warm_map_same_focus_s"]))
    lines.append(line("map right after update_file", ours["map_after_update_s"]))
    lines.append(line("map in a fresh process (open + map)", ours["fresh_process_map_s"]))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=10_000, help="corpus size (default 10000)")
    parser.add_argument("--site-packages", type=Path, default=Path(sysconfig.get_paths()["purelib"]))
    parser.add_argument(
        "--workdir", type=Path, default=None, help="where the corpus is copied (default: temp)"
    )
    parser.add_argument(
        "--workers", type=int, default=0, help="codeassist parser processes (0: one per core)"
    )
    parser.add_argument("--tokens", type=int, default=1024)
    parser.add_argument("--noop-runs", type=int, default=5)
    parser.add_argument("--map-runs", type=int, default=20)
    parser.add_argument("--update-runs", type=int, default=20)
    parser.add_argument("--aider-map-runs", type=int, default=3)
    parser.add_argument("--aider-update-runs", type=int, default=5)
    parser.add_argument("--no-aider", action="store_true", help="only codeassist")
    parser.add_argument(
        "--plain-dir", action="store_true", help="corpus as a plain directory, not a git repo"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write all figures to this file")
    args = parser.parse_args()
    rng = random.Random(20260401)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="codeassist-bench-"))
    root = workdir / "corpus"
    files = build_corpus(root, args.files, args.site_packages, as_git=not args.plain_dir)
    print(f"corpus: {len(files)} files in {root}", flush=True)
    ours, sets, updates = bench_codeassist(root, files, args, rng)
    for text in report(ours, None, len(files)):
        print(text, flush=True)
    # aider sees the corpus exactly as it was before our update_file calls (those never touch disk).
    aider = None if args.no_aider else bench_aider(root, files, sets, updates, args)
    if aider is not None:
        print("side by side with aider's RepoMap:")
        for text in report(ours, aider, len(files)):
            print(text)
    print("first lines of the cold map:\n  " + "\n  ".join(ours["first_map_lines"]))
    if args.json:
        args.json.write_text(json.dumps({"codeassist": ours, "aider": aider}, indent=2), encoding="utf-8")
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
