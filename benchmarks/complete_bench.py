"""Benchmark of the completion engine (docs/completion.md has the latest figures).

    .venv/bin/python benchmarks/complete_bench.py [--url URL] [--parts overhead,cache,context,quality]

(a) overhead: engine end-to-end vs the raw HTTP request with the identical body, same server,
    sent plain (one JSON answer) and streamed (what the engine sends: it streams so that
    llama-server notices a cancelled request before the next token);
(b) cache hits: latency of exact and typed-through hits;
(c) context assembly on a ~10k-file repository (stdlib + site-packages .py files, indexed);
(d) quality: exact match and edit similarity of the first suggested line on held-out lines cut
    from installed third-party packages, prefix/suffix only vs with repository context; with
    ``--variants``, the prompt layouts of the non-FIM path too.

Without ``--url`` a llama-server with the configured model (the tiny Gemma by default) is started
through codeassist's runtime on a free port and stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import socket
import statistics
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from codeassist.completion import CompletionEngine, CompletionRequest  # noqa: E402
from codeassist.completion.prompt import CHAT_VARIANTS, DEFAULT_VARIANT, VARIANTS, Variant  # noqa: E402
from codeassist.config import CompletionSettings, IndexSettings, Settings, load_settings  # noqa: E402
from codeassist.index import RepoIndex  # noqa: E402
from codeassist.runtime import LocalRuntime  # noqa: E402
from codeassist.runtime.server import ManagedServer  # noqa: E402

QUALITY_PACKAGES = ("click", "httpx", "rich", "pygls", "platformdirs", "git", "textual")
# Windows kept small: on 2 shared CPU cores prompt processing dominates the run time.
BENCH = CompletionSettings(n_predict=12, prefix_tokens=192, suffix_tokens=64, context_tokens=160,
                           cache_size=1000, timeout=300.0, latency_ms=0, speculative=False)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "median": round(statistics.median(values), 2),
            "p95": round(pct(values, 95), 2), "mean": round(statistics.fmean(values), 2)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(url: str | None, work: Path) -> Iterator[Settings]:
    base = work / "none.toml"
    if url:
        yield load_settings(None, overrides={"server.url": url}, env={}, user_config=base)
        return
    state = Path(tempfile.mkdtemp(prefix="bench-server-"))
    managed = load_settings(None, env={}, user_config=base,
                            overrides={"server.port": free_port(), "server.ctx_size": 4096})
    srv = ManagedServer(managed, state_dir=state)
    status = srv.start()
    print(f"started llama-server at {status.url} ({status.model})", flush=True)
    try:
        yield load_settings(None, overrides={"server.url": status.url}, env={}, user_config=base)
    finally:
        srv.stop()
        shutil.rmtree(state, ignore_errors=True)


# ---- positions ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Position:
    path: Path  # absolute
    text: str  # document text with the held-out line's code removed
    line: int
    col: int
    expected: str  # the held-out line's code (after the indentation)


def _body_lines(lines: list[str]) -> list[int]:
    """Lines inside function bodies worth predicting (code, not comments or docstrings)."""
    out = []
    in_def = False
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(("def ", "async def ")):
            in_def = True
            continue
        if in_def and line and not line[0].isspace():
            in_def = False
        if not in_def or len(stripped) < 12 or len(stripped) > 100:
            continue
        if stripped.startswith(("#", '"', "'", "@")) or stripped.endswith(('"""', "'''")):
            continue
        out.append(i)
    return out


def held_out_positions(files: list[Path], count: int, seed: int) -> list[Position]:
    rng = random.Random(seed)
    pool = list(files)
    rng.shuffle(pool)
    positions: list[Position] = []
    for path in pool:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        lines = text.split("\n")
        candidates = [i for i in _body_lines(lines) if i > 20]
        for i in rng.sample(candidates, min(2, len(candidates))):
            indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
            cut = [*lines[:i], indent, *lines[i + 1:]]
            positions.append(Position(path, "\n".join(cut), i, len(indent), lines[i].strip()))
        if len(positions) >= count:
            break
    return positions[:count]


def edit_similarity(a: str, b: str) -> float:
    if not a and not b:
        return 1.0
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return 1.0 - prev[-1] / max(len(a), len(b))


def request_for(pos: Position, root: Path) -> CompletionRequest:
    return CompletionRequest(pos.text, pos.line, pos.col, str(pos.path), "python", {})


def copy_packages(target: Path, names: tuple[str, ...]) -> list[Path]:
    site = Path(sysconfig.get_paths()["purelib"])
    if not target.exists() or not any(target.rglob("*.py")):  # an empty folder is filled too
        for name in names:
            if (site / name).is_dir():
                shutil.copytree(site / name, target / name, ignore=shutil.ignore_patterns("__pycache__"))
    return sorted(target.rglob("*.py"))


def build_big_repo(target: Path, limit: int = 10_000) -> Path:
    """~10k .py files from the standard library and site-packages, copied once."""
    if target.exists() and len(list(target.rglob("*.py"))) >= limit * 0.9:
        return target
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    copied = 0
    for source in sorted(stdlib.rglob("*.py")):
        if copied >= limit:
            break
        if "__pycache__" in source.parts:
            continue
        dest = target / source.relative_to(stdlib)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copyfile(source, dest)
        except OSError:
            continue
        copied += 1
    return target


def open_index(root: Path) -> RepoIndex:
    index = RepoIndex.open(root, IndexSettings())
    started = time.perf_counter()
    scan = index.update()
    print(f"indexed {root}: {scan.total_indexed} files, {scan.definitions} definitions "
          f"({time.perf_counter() - started:.1f} s)", flush=True)
    return index


# ---- parts -----------------------------------------------------------------------------------
async def part_overhead(runtime: LocalRuntime, index: RepoIndex, positions: list[Position],
                        root: Path, rounds: int) -> dict[str, Any]:
    """Each position: one warm-up request (fills the server's prompt cache), then ``rounds``
    triples of engine / raw / raw-streamed requests in rotating order, so all see the same server
    work. "raw" is the engine's body sent as one plain request; "raw streamed" is exactly what the
    engine sends (``stream: true``, read event by event)."""
    engine = CompletionEngine(runtime, index, BENCH, root=root)
    client = await runtime.client()
    times: dict[str, list[float]] = {"engine": [], "raw": [], "raw_streamed": []}
    kinds = list(times)
    async with httpx.AsyncClient(timeout=300.0) as http, httpx.AsyncClient(timeout=300.0) as sse:
        for pos in positions:
            req = request_for(pos, root)
            prepared = await engine.prepare(req)
            path = "/infill" if prepared.mode == "infill" else "/completion"
            body = prepared.body()
            (await http.post(client.base_url + path, json=body)).raise_for_status()
            for i in range(rounds):
                for kind in kinds[i % 3:] + kinds[:i % 3]:
                    engine.clear_cache()
                    started = time.perf_counter()
                    if kind == "engine":
                        await engine.complete(req)
                    elif kind == "raw":
                        (await http.post(client.base_url + path, json=body)).json()
                    else:
                        async with sse.stream("POST", client.base_url + path,
                                              json={**body, "stream": True}) as response:
                            async for line in response.aiter_lines():
                                if line.startswith("data:"):
                                    json.loads(line[5:])
                    times[kind].append((time.perf_counter() - started) * 1000)
    eng, raw, streamed = (summary(times[k]) for k in kinds)
    return {"engine_ms": eng, "raw_ms": raw, "raw_streamed_ms": streamed,
            "median_ratio": round(eng["median"] / raw["median"], 3),
            "p95_delta_ms": round(eng["p95"] - raw["p95"], 2),
            "median_delta_ms": round(eng["median"] - raw["median"], 2),
            "median_ratio_vs_streamed": round(eng["median"] / streamed["median"], 3),
            "p95_delta_vs_streamed_ms": round(eng["p95"] - streamed["p95"], 2)}


async def part_cache(runtime: LocalRuntime, positions: list[Position], root: Path) -> dict[str, Any]:
    engine = CompletionEngine(runtime, None, replace(BENCH, context_tokens=0), root=root)
    exact: list[float] = []
    through: list[float] = []
    for pos in positions:
        req = request_for(pos, root)
        result = await engine.complete(req)
        if not result.items:
            continue
        for _ in range(5):
            started = time.perf_counter()
            hit = await engine.complete(req)
            exact.append((time.perf_counter() - started) * 1000)
            assert hit.cached
        item = result.items[0]
        lines = pos.text.split("\n")
        for k in range(1, min(6, len(item.split("\n", 1)[0]))):  # typing within the first line
            lines[pos.line] = lines[pos.line][: pos.col] + item[:k]
            typed = replace(req, text="\n".join(lines), col=pos.col + k)
            started = time.perf_counter()
            hit = await engine.complete(typed)
            through.append((time.perf_counter() - started) * 1000)
            assert hit.cached and hit.items == [item[k:]], (hit, item, k)
    return {"exact_ms": summary(exact), "type_through_ms": summary(through)}


async def part_context(runtime: LocalRuntime, big: Path, count: int, seed: int) -> dict[str, Any]:
    index = open_index(big)
    try:
        engine = CompletionEngine(runtime, index, CompletionSettings(), root=big)
        files = sorted(big.rglob("*.py"))
        positions = held_out_positions(files, count, seed)
        rng = random.Random(seed)
        # an editor session: three other files open (chunked once, then memoised like in the LSP)
        docs = {str(p): p.read_text(encoding="utf-8", errors="replace") for p in rng.sample(files, 3)}
        times: list[float] = []
        cpu: list[float] = []
        sizes: list[int] = []
        for pos in positions:
            req = replace(request_for(pos, big), open_documents=docs)
            started, cpu_started = time.perf_counter(), time.thread_time()
            chunks = engine.context_for(req)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.thread_time() - cpu_started) * 1000)
            sizes.append(len(chunks))
        # wall time suffers from other processes on a shared machine; CPU time is the own cost
        return {"files": len(files), "assembly_ms": summary(times), "assembly_cpu_ms": summary(cpu),
                "chunks_mean": statistics.fmean(sizes)}
    finally:
        index.close()


async def quality_run(runtime: LocalRuntime, index: RepoIndex | None, positions: list[Position],
                      root: Path, settings: CompletionSettings, variant: Variant) -> dict[str, Any]:
    engine = CompletionEngine(runtime, index, settings, root=root, variant=variant)
    exact = 0
    sims: list[float] = []
    latency: list[float] = []
    for pos in positions:
        if index is not None:
            index.update_file(pos.path, pos.text)
        result = await engine.complete(request_for(pos, root))
        got = result.items[0].split("\n", 1)[0].strip() if result.items else ""
        exact += got == pos.expected
        sims.append(edit_similarity(got, pos.expected))
        latency.append(result.timings.total_ms)
        if index is not None:
            index.update_file(pos.path, pos.path.read_text(encoding="utf-8"))
    return {"variant": variant, "context_tokens": settings.context_tokens, "positions": len(positions),
            "exact": exact, "exact_rate": round(exact / len(positions), 3),
            "edit_similarity": round(statistics.fmean(sims), 4), "latency_ms": summary(latency),
            "mode": engine.mode}


async def part_quality(runtime: LocalRuntime, work: Path, count: int, seed: int, variants: bool
                       ) -> dict[str, Any]:
    repo = work / "third-party"
    files = copy_packages(repo, QUALITY_PACKAGES)
    index = open_index(repo)
    positions = held_out_positions(files, count, seed)
    out: dict[str, Any] = {"packages": QUALITY_PACKAGES, "runs": []}
    try:
        best: Variant = DEFAULT_VARIANT
        if variants:
            subset = positions[: max(30, count // 7)]
            scores: dict[Variant, float] = {}
            for variant in [v for v in VARIANTS if v not in CHAT_VARIANTS]:  # a base model: no template
                run = await quality_run(runtime, index, subset, repo, BENCH, variant)
                print(json.dumps(run), flush=True)
                out["runs"].append({"subset": True, **run})
                scores[variant] = run["edit_similarity"]
            best = max(scores, key=lambda v: scores[v])
        out["variant"] = best
        for ctx in (0, BENCH.context_tokens):
            settings = replace(BENCH, context_tokens=ctx)
            run = await quality_run(runtime, index if ctx else None, positions, repo, settings, best)
            print(json.dumps(run), flush=True)
            out["runs"].append(run)
    finally:
        index.close()
    return out


async def main_async(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    work = Path(args.work_dir)
    runtime = LocalRuntime(settings)
    results: dict[str, Any] = {}
    parts = set(args.parts.split(","))
    try:
        if parts & {"overhead", "cache"}:
            repo = work / "third-party"
            files = copy_packages(repo, QUALITY_PACKAGES)
            positions = held_out_positions(files, args.overhead_positions, args.seed + 1)
            if "overhead" in parts:
                index = open_index(repo)
                try:
                    rounds = -(-args.requests // len(positions))
                    results["overhead"] = await part_overhead(runtime, index, positions, repo, rounds)
                finally:
                    index.close()
                print(json.dumps(results["overhead"]), flush=True)
            if "cache" in parts:
                results["cache"] = await part_cache(runtime, positions, repo)
                print(json.dumps(results["cache"]), flush=True)
        if "context" in parts:
            big = build_big_repo(work / "stdlib-10k")
            results["context"] = await part_context(runtime, big, args.requests, args.seed)
            print(json.dumps(results["context"]), flush=True)
        if "quality" in parts:
            results["quality"] = await part_quality(runtime, work, args.positions, args.seed, args.variants)
    finally:
        await runtime.aclose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="an already running llama-server (default: start one)")
    parser.add_argument("--parts", default="overhead,cache,context,quality")
    parser.add_argument("--requests", type=int, default=200, help="timed requests for (a), positions for (c)")
    parser.add_argument("--overhead-positions", type=int, default=20, help="distinct positions for (a), (b)")
    parser.add_argument("--positions", type=int, default=200, help="held-out positions for (d)")
    parser.add_argument("--variants", action="store_true", help="also compare the non-FIM prompt layouts")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work-dir", default=str(Path.home() / ".cache/codeassist/bench"))
    parser.add_argument("--json", dest="json_out", help="write all results to this file")
    args = parser.parse_args()
    Path(args.work_dir).mkdir(parents=True, exist_ok=True)
    with server(args.url, Path(args.work_dir)) as settings:
        results = asyncio.run(main_async(args, settings))
    print(json.dumps(results, indent=2))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
