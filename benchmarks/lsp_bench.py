"""Language-server latency and robustness, against a real llama-server.

1. Keystroke-to-response: ``textDocument/inlineCompletion`` through `codeassist lsp` vs the same
   request sent straight to llama-server (the body the engine would send, from
   ``CompletionEngine.prepare``): median, p95 and the ratio of medians. Then cache hits (the same
   positions again) through the LSP: median and p95.
2. Typing burst: 500 keystrokes (--bursts x --per-burst, default 50 x 10), each an incremental
   ``didChange`` plus an ``inlineCompletion``, the client cancelling the previous request on every
   other burst as VS Code does, the server superseding it otherwise. Counts protocol errors,
   answered requests (and how many were not the newest of their burst: cache hits, typed-through
   suggestions, are answered at once), whether the server survived, and its RSS before and after.
   The burst's server talks to llama-server through a tap (``model_tap.py``) that counts the
   generation requests reaching the model and the answers it completed, per burst.

Usage: python benchmarks/lsp_bench.py [--url http://127.0.0.1:8012] [--positions 30] [--bursts 50]
       [--per-burst 10]
Without --url a llama-server with the configured model is started (and stopped) through codeassist.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from lsprotocol import types
from model_tap import ModelTap
from pygls.exceptions import JsonRpcException
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "codeassist" / "config.py"
CANCELLED = types.LSPErrorCodes.RequestCancelled.value


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def positions(text: str, count: int) -> list[tuple[int, int]]:
    """Ends of indented code lines spread over the file (where completions are asked for)."""
    lines = text.splitlines()
    picks = [(i, len(line)) for i, line in enumerate(lines)
             if line.startswith("    ") and line.strip() and not line.strip().startswith(("#", '"'))]
    step = max(1, len(picks) // count)
    return picks[::step][:count]


def inline_params(uri: str, line: int, col: int) -> types.InlineCompletionParams:
    return types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=line, character=col),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic))


@dataclass
class Session:
    client: LanguageClient
    statuses: list[dict[str, Any]] = field(default_factory=list)

    @property
    def pid(self) -> int:
        assert self.client._server is not None
        return self.client._server.pid


async def open_session(root: Path, url: str) -> Session:
    client = LanguageClient("lsp-bench", "1")
    session = Session(client)

    @client.feature("codeassist/status")
    def on_status(params: Any) -> None:
        session.statuses.append(params._asdict())

    @client.feature(types.WINDOW_SHOW_MESSAGE)
    def on_message(params: types.ShowMessageParams) -> None:
        print(f"  server says: {params.message}", file=sys.stderr)

    await client.start_io(sys.executable, "-m", "codeassist", "lsp")
    caps = types.ClientCapabilities(
        general=types.GeneralClientCapabilities(position_encodings=[types.PositionEncodingKind.Utf16]),
        text_document=types.TextDocumentClientCapabilities(
            inline_completion=types.InlineCompletionClientCapabilities()))
    await client.initialize_async(types.InitializeParams(
        capabilities=caps, root_uri=root.as_uri(), initialization_options={"server": {"url": url}}))
    client.initialized(types.InitializedParams())
    return session


def open_doc(session: Session, path: Path, text: str) -> str:
    uri = path.as_uri()
    session.client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
    return uri


async def wait_ready(session: Session, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not any(s["state"] == "ready" for s in session.statuses):
        if time.monotonic() > deadline:
            raise SystemExit(f"the language server never became ready: {session.statuses}")
        await asyncio.sleep(0.1)


def make_engine(url: str, root: Path) -> Any:
    """The engine the server runs (with the same index), in-process, to build the same request body."""
    from codeassist.completion import CompletionEngine
    from codeassist.config import load_settings
    from codeassist.index import RepoIndex
    from codeassist.runtime import LocalRuntime

    settings = load_settings(root, overrides={"server.url": url})
    index = RepoIndex.open(root, settings.index)
    index.update()
    return CompletionEngine(LocalRuntime(settings), index, settings.completion, root=root)


async def raw_latency(engine: Any, url: str, path: Path, text: str, line: int, col: int,
                      http: httpx.AsyncClient) -> float:
    from codeassist.completion import CompletionRequest

    prepared = await engine.prepare(CompletionRequest(text=text, line=line, col=col, path=str(path),
                                                      language="python"))
    endpoint = "/infill" if prepared.infill is not None else "/completion"
    started = time.perf_counter()
    response = await http.post(url + endpoint, json=prepared.body(), timeout=60)
    response.raise_for_status()
    return (time.perf_counter() - started) * 1000


async def lsp_latency(session: Session, uri: str, line: int, col: int) -> tuple[float, int]:
    started = time.perf_counter()
    answer = await session.client.text_document_inline_completion_async(inline_params(uri, line, col))
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed, len(answer.items) if answer else 0


async def bench_latency(session: Session, url: str, root: Path, path: Path, text: str,
                        count: int) -> dict[str, Any]:
    uri = open_doc(session, path, text)
    await wait_ready(session)
    spots = positions(text, count)
    raw: list[float] = []
    lsp: list[float] = []
    engine = make_engine(url, root)
    async with httpx.AsyncClient() as http:
        await lsp_latency(session, uri, *spots[0])  # warm-up: capability probe, first prompt
        for i, (line, col) in enumerate(spots):
            order = ("raw", "lsp") if i % 2 == 0 else ("lsp", "raw")  # neither always gets the warm cache
            for which in order:
                await asyncio.sleep(0.2)  # a pause longer than the debounce: a fresh keystroke
                if which == "raw":
                    raw.append(await raw_latency(engine, url, path, text, line, col, http))
                else:
                    lsp.append((await lsp_latency(session, uri, line, col))[0])
        hits: list[float] = []
        for line, col in spots:
            await asyncio.sleep(0.2)
            hits.append((await lsp_latency(session, uri, line, col))[0])
    return {
        "positions": len(spots),
        "raw_ms": {"median": statistics.median(raw), "p95": pct(raw, 0.95)},
        "lsp_ms": {"median": statistics.median(lsp), "p95": pct(lsp, 0.95)},
        "ratio_median": statistics.median(lsp) / statistics.median(raw),
        "cache_hit_ms": {"median": statistics.median(hits), "p95": pct(hits, 0.95)},
    }


async def bench_burst(session: Session, tap: ModelTap, path: Path, text: str, bursts: int,
                      per_burst: int, interval: float) -> dict[str, Any]:
    uri = path.with_name("burst.py").as_uri()
    lines = text.splitlines(keepends=True)
    body = "".join(lines[:60]) + "\n\ndef typed_here():\n    "
    session.client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id="python", version=1, text=body)))
    line, col, version = body.count("\n"), 4, 1
    await session.client.text_document_inline_completion_async(inline_params(uri, line, col))  # warm-up
    await asyncio.sleep(1.0)
    rss_before = rss_mb(session.pid)
    errors: list[str] = []
    answered = answered_not_newest = cancelled = empty = stale = 0
    typed = "result = compute_value(items, key=lambda x: x.name) if items else None  "
    sent = 0
    model_answers: list[int] = []  # per burst: answers llama-server completed and delivered
    model_started = 0
    for burst in range(bursts):
        before = tap.snapshot()
        client_cancels = burst % 2 == 0
        pending: list[tuple[str, asyncio.Future[Any]]] = []
        sent_at: list[float] = []
        done_at: dict[int, float] = {}
        for k in range(per_burst):
            char = typed[(burst * per_burst + k) % len(typed)]
            version += 1
            session.client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangePartial(
                    range=types.Range(start=types.Position(line=line, character=col),
                                      end=types.Position(line=line, character=col)), text=char)]))
            col += 1
            if client_cancels and pending:
                session.client.cancel_request(types.CancelParams(id=pending[-1][0]))
            msg_id = f"b{burst}-{k}"
            future = session.client.protocol.send_request_async(
                types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, line, col), msg_id=msg_id)
            sent_at.append(time.perf_counter())
            future.add_done_callback(lambda _, k=k, d=done_at: d.setdefault(k, time.perf_counter()))
            pending.append((msg_id, future))
            sent += 1
            await asyncio.sleep(interval)
        for index, (_, future) in enumerate(pending):
            try:
                answer = await asyncio.wait_for(future, timeout=60)
            except JsonRpcException as exc:
                if exc.code == CANCELLED:
                    cancelled += 1
                else:
                    errors.append(f"{exc.code}: {exc.message}")
                continue
            except TimeoutError:
                errors.append("no answer within 60 s")
                continue
            if answer is not None and answer.items:
                answered += 1
                answered_not_newest += index != len(pending) - 1
                # a suggestion for a position the user had already typed past
                stale += index + 1 < len(pending) and done_at[index] > sent_at[index + 1]
            else:
                empty += 1
        await asyncio.sleep(0.3)
        counts = tap.snapshot().minus(before)
        model_answers.append(counts.answered)
        model_started += counts.started
    await asyncio.sleep(1.0)
    alive = session.client._server is not None and session.client._server.returncode is None
    return {"requests": sent, "bursts": bursts, "answered": answered,
            "answered_not_newest": answered_not_newest, "answered_after_a_newer_keystroke": stale,
            "cancelled": cancelled, "empty": empty,
            "model_requests": model_started, "model_answers": sum(model_answers),
            "bursts_with_more_than_one_model_answer": sum(n > 1 for n in model_answers),
            "errors": len(errors), "error_samples": errors[:5], "server_alive": alive,
            "rss_before_mb": round(rss_before, 1), "rss_after_mb": round(rss_mb(session.pid), 1)}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    text = SAMPLE.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / ".git").mkdir()  # the repository root for the server
        path = root / "config_sample.py"
        path.write_text(text, encoding="utf-8")
        session = await open_session(root, args.url)
        try:
            latency = await bench_latency(session, args.url, root, path, text, args.positions)
        finally:
            await close_session(session)
        # the burst goes through a tap that counts what reaches llama-server
        tap = ModelTap(int(args.url.rsplit(":", 1)[1].split("/")[0]))
        await tap.start()
        session = await open_session(root, tap.url)
        try:
            open_doc(session, path, text)  # a document attaches the model server
            await wait_ready(session)
            burst = await bench_burst(session, tap, path, text, args.bursts, args.per_burst, args.interval)
        finally:
            await close_session(session)
            await tap.stop()
    return {"latency": latency, "burst": burst}


async def close_session(session: Session) -> None:
    await session.client.shutdown_async(None)
    session.client.exit(None)
    await session.client.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="", help="a running llama-server (default: start one)")
    parser.add_argument("--positions", type=int, default=30)
    parser.add_argument("--bursts", type=int, default=50)
    parser.add_argument("--per-burst", type=int, default=10, help="keystrokes per burst")
    parser.add_argument("--interval", type=float, default=0.04, help="seconds between keystrokes")
    args = parser.parse_args()
    server = None
    if not args.url:
        from codeassist.config import load_settings
        from codeassist.runtime.server import ManagedServer

        server = ManagedServer(load_settings(ROOT))
        args.url = server.start().url
    try:
        result = asyncio.run(run(args))
    finally:
        if server is not None:
            server.stop()
    lat, burst = result["latency"], result["burst"]
    print(json.dumps(result, indent=2))
    print(f"\nraw llama-server : median {lat['raw_ms']['median']:.1f} ms, p95 {lat['raw_ms']['p95']:.1f} ms")
    print(f"through the LSP  : median {lat['lsp_ms']['median']:.1f} ms, p95 {lat['lsp_ms']['p95']:.1f} ms"
          f"  (ratio of medians {lat['ratio_median']:.3f}; target <= 1.15)")
    print(f"LSP cache hits   : median {lat['cache_hit_ms']['median']:.1f} ms, "
          f"p95 {lat['cache_hit_ms']['p95']:.1f} ms (target p95 <= 15)")
    print(f"burst            : {burst['requests']} requests, {burst['errors']} errors, "
          f"{burst['answered']} answered ({burst['answered_not_newest']} not the newest of their burst, "
          f"{burst['answered_after_a_newer_keystroke']} answered after a newer keystroke), "
          f"{burst['cancelled']} cancelled, server alive: {burst['server_alive']}, "
          f"RSS {burst['rss_before_mb']} -> {burst['rss_after_mb']} MB")
    print(f"  at llama-server: {burst['model_requests']} generation requests, {burst['model_answers']} "
          f"answered in full; bursts where more than one was answered: "
          f"{burst['bursts_with_more_than_one_model_answer']} of {burst['bursts']}")


if __name__ == "__main__":
    main()
