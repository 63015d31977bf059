"""Serving benchmarks: pool failover time, and the OpenAI backend's overhead vs the native one.

    .venv/bin/python benchmarks/serving_bench.py [--kills 20] [--requests 30] [--parts failover,overhead]

(a) failover: two llama-servers (the configured model, the tiny Gemma by default) with an API key
    behind one pool. Each round finds a document served by one server, kills that server
    (SIGKILL) and measures the time from the kill to the first completion answered for that
    document (by the other server); then restarts the killed server and waits until the document
    is routed back to it. Median and p95 over ``--kills`` rounds.
(b) overhead: the same completion requests through the completion engine with
    ``server.api = "llama"`` (native ``/completion``) and ``server.api = "openai"`` (raw prompt on
    ``/v1/completions``) on the same server, alternating, greedy, the prompt cache warm: median
    and p95 of each and the ratio of medians.

Latency figures depend on the machine; on a shared 2-core machine they are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from codeassist.completion import CompletionEngine, CompletionRequest  # noqa: E402
from codeassist.config import CompletionSettings, load_settings  # noqa: E402
from codeassist.runtime import LocalRuntime  # noqa: E402
from codeassist.runtime.backend import affinity  # noqa: E402
from codeassist.runtime.llama_client import CompletionParams  # noqa: E402
from codeassist.runtime.pool import EndpointPool  # noqa: E402
from codeassist.runtime.server import ManagedServer  # noqa: E402

KEY = "bench-key"
SOURCE = '''import math


def area(radius):
    return math.pi * radius ** 2


def circumference(radius):
    return 2 * math.pi * radius


def describe(radius):
    return f"circle of radius {radius}"
'''


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "median": round(statistics.median(values), 1), "p95": round(pct(values, 95), 1),
            "max": round(max(values), 1)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def managed(work: Path, **extra: Any) -> ManagedServer:
    settings = load_settings(None, env={}, user_config=work / "none.toml", overrides={
        "server.port": free_port(), "server.ctx_size": 4096, "server.threads": 1, **extra})
    return ManagedServer(settings, state_dir=Path(tempfile.mkdtemp(prefix="bench-srv-", dir=work)))


async def failover(work: Path, kills: int) -> dict[str, Any]:
    servers = [managed(work, **{"server.api_key": KEY}) for _ in range(2)]
    for srv in servers:
        srv.start()
    settings = load_settings(None, env={}, user_config=work / "none.toml", overrides={
        "server.url": ",".join(s.url for s in servers), "server.api_key": KEY})
    runtime = LocalRuntime(settings)
    params = CompletionParams(n_predict=2, timeout=30.0)
    times, back = [], []
    try:
        pool = await runtime.client()
        assert isinstance(pool, EndpointPool)
        for round_ in range(kills):
            victim = servers[round_ % 2]
            doc = next(f"doc{i}.py" for i in range(1000) if pool.route(f"doc{i}.py") == victim.url)
            with affinity(doc):
                await pool.complete("def f():\n", params)
            pid = victim.status().pid
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            killed = time.perf_counter()
            with affinity(doc):
                await pool.complete("def f():\n", params)
            times.append((time.perf_counter() - killed) * 1000)
            await asyncio.to_thread(victim.start)
            restarted = time.perf_counter()
            while pool.route(doc) != victim.url:
                await asyncio.sleep(0.05)
            back.append((time.perf_counter() - restarted) * 1000)
            print(f"round {round_ + 1}: answered {times[-1]:.0f} ms after the kill; routed back "
                  f"{back[-1]:.0f} ms after the restart", flush=True)
    finally:
        await runtime.aclose()
        for srv in servers:
            srv.stop()
    return {"failover_ms": summary(times), "back_after_restart_ms": summary(back)}


async def overhead(work: Path, requests: int) -> dict[str, Any]:
    srv = managed(work)
    srv.start()
    settings = CompletionSettings(n_predict=16, prefix_tokens=256, suffix_tokens=64, context_tokens=0,
                                  cache_size=1, timeout=120.0)
    results: dict[str, list[float]] = {"llama": [], "openai": []}
    runtimes, engines = {}, {}
    try:
        for api in results:
            cfg = load_settings(None, env={}, user_config=work / "none.toml",
                                overrides={"server.url": srv.url, "server.api": api})
            runtimes[api] = LocalRuntime(cfg)
            engines[api] = CompletionEngine(runtimes[api], None, settings, root=work, read_model_file=False)
        lines = SOURCE.splitlines()
        positions = [(i, len(line)) for i, line in enumerate(lines) if line.strip()]
        for n in range(requests + 2):
            line, col = positions[n % len(positions)]
            for api in ("llama", "openai") if n % 2 == 0 else ("openai", "llama"):
                engines[api].clear_cache()
                request = CompletionRequest(SOURCE, line, col, str(work / "geo.py"), "python")
                started = time.perf_counter()
                await engines[api].complete(request)
                if n >= 2:  # the first two rounds warm up the prompt cache and the probes
                    results[api].append((time.perf_counter() - started) * 1000)
    finally:
        for runtime in runtimes.values():
            await runtime.aclose()
        srv.stop()
    native, openai = summary(results["llama"]), summary(results["openai"])
    return {"native_ms": native, "openai_ms": openai,
            "ratio_of_medians": round(openai["median"] / native["median"], 3)}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="serving-bench-"))
    out: dict[str, Any] = {}
    try:
        parts = args.parts.split(",")
        if "overhead" in parts:
            out["overhead"] = await overhead(work, args.requests)
            print(json.dumps(out["overhead"]), flush=True)
        if "failover" in parts:
            out["failover"] = await failover(work, args.kills)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--parts", default="overhead,failover")
    result = asyncio.run(run(parser.parse_args()))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
