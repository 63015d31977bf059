"""HumanEval infilling, functional correctness (pass@1, greedy): raw llama-server vs the engine.

Side by side in one run, same model and same server, every task through every path:

- ``raw-infill``: ``/infill`` with the task's prefix and suffix, the server's answer verbatim
  (FIM models only; a model without FIM tokens answers 501 and the path is left out);
- ``raw-completion``: ``/completion`` on the prefix, the answer verbatim;
- ``raw-infill-line`` / ``raw-completion-line``: the same requests stopped at the first line break
  (``stop: ["\\n"]``, the line break kept when the model wrote one): what a plain client asking
  for one line gets — the fair baseline on the single-line set, where the hole is one line;
- ``lsp``: the engine through ``codeassist lsp`` driven by a real LSP client
  (``textDocument/inlineCompletion``); the first item is *accepted* as an editor does: its
  ``insertText`` replaces its ``range`` of the document, and the resulting file is what runs.
  ``lsp:LAYOUT`` forces the FIM-less path (``/completion``) with that prompt layout
  (``completion.mode = "completion"``, ``completion.prompt = LAYOUT``), for FIM models too.

The raw requests get the engine's generation cap (``n_predict`` 128) and greedy sampling; nothing
else. Each filled-in program runs against its tests in a subprocess with a timeout
(``humaneval.py``). Latency is per request, as the client sees it (ms, median and p95).

Usage:
    python benchmarks/infill_bench.py --model PATH [--url URL] [--sets light,single,multi] [--limit N]
        [--multi-limit N] [--seed 0] [--paths raw-infill,raw-completion,lsp] [--n-predict 128]
        [--option KEY=VALUE] [--json OUT.json] [--lsp-log FILE]

``--limit`` samples the light set (fixed ``--seed``), ``--multi-limit`` the multi-line set (default
40; its 5,815 tasks take hours on 2 CPU cores). Without ``--url`` a llama-server with ``--model`` (or
the configured model) is started on a free port and stopped at the end. The JSON has the summary
and, per task and path, the candidate and the verdict; ``--lsp-log`` keeps the language server's
debug log (each raw answer, what post-processing made of it, the second choices asked for).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from lsprotocol import types
from pygls.lsp.client import LanguageClient

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import humaneval  # noqa: E402

N_PREDICT = 128  # the engine's default cap
CAP = {"n_predict": N_PREDICT}  # --n-predict: the same cap for every path
OPTIONS: dict[str, Any] = {}  # --option KEY=VALUE: [completion] settings of the engine's paths
LSP_LOG: list[str] = []  # --lsp-log FILE: the language server's debug log (every answer, raw and shown)
GREEDY = {"temperature": 0.0, "top_k": 1, "top_p": 1.0, "min_p": 0.0, "repeat_penalty": 1.0, "seed": 0}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


@dataclass
class PathResult:
    name: str
    latencies: list[float] = field(default_factory=list)
    verdicts: list[bool] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)  # the filled-in files
    empty: int = 0
    unsupported: bool = False

    def summary(self) -> dict[str, Any]:
        n = len(self.verdicts)
        return {"tasks": n, "passed": sum(self.verdicts),
                "pass@1": round(100 * sum(self.verdicts) / n, 1) if n else None,
                "empty": self.empty,
                "latency_ms": {"median": round(statistics.median(self.latencies), 1),
                               "p95": round(pct(self.latencies, 0.95), 1)} if self.latencies else None}


# ---- raw paths ---------------------------------------------------------------------------------
async def raw(http: httpx.AsyncClient, url: str, path: str, task: humaneval.Task) -> tuple[str, float]:
    body: dict[str, Any] = {"n_predict": CAP["n_predict"], "cache_prompt": True, "stream": False, **GREEDY}
    one_line = path.endswith("-line")
    if one_line:
        body["stop"] = ["\n"]
    if path.startswith("raw-infill"):
        body.update(input_prefix=task.prompt, input_suffix=task.suffix, input_extra=[])
        endpoint = "/infill"
    else:
        body.update(prompt=task.prompt)
        endpoint = "/completion"
    started = time.perf_counter()
    response = await http.post(url + endpoint, json=body, timeout=600)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code == 501:
        raise NotImplementedError(response.text)
    response.raise_for_status()
    data = response.json()
    content = str(data.get("content", ""))
    if one_line and data.get("stop_type") == "word":  # it wrote the line break the stop swallowed
        content += "\n"
    return content, elapsed


# ---- the engine through the LSP ----------------------------------------------------------------
@dataclass
class LspSession:
    client: LanguageClient
    ready: asyncio.Event


async def open_lsp(root: Path, url: str, layout: str | None,
                   completion: dict[str, Any] | None = None) -> LspSession:
    """A real LSP client on `codeassist lsp`; ``layout`` forces the FIM-less path with that prompt,
    ``completion`` overrides other ``[completion]`` settings (the benchmark's defaults: no debounce,
    a long timeout)."""
    client = LanguageClient("infill-bench", "1")
    session = LspSession(client, asyncio.Event())

    @client.feature("codeassist/status")
    def on_status(params: Any) -> None:
        if params._asdict().get("state") == "ready":
            session.ready.set()

    @client.feature(types.WINDOW_SHOW_MESSAGE)
    def on_message(params: types.ShowMessageParams) -> None:
        print(f"  server says: {params.message}", file=sys.stderr)

    logging = ["lsp", "--log-file", LSP_LOG[0]] if LSP_LOG else ["lsp"]
    await client.start_io(sys.executable, "-m", "codeassist", *logging)
    completion = dict(completion) if completion is not None else {
        "debounce_ms": 0, "timeout": 300, "n_predict": CAP["n_predict"], **OPTIONS}
    if layout is not None:
        completion.update(mode="completion", prompt=layout)
    caps = types.ClientCapabilities(
        general=types.GeneralClientCapabilities(position_encodings=[types.PositionEncodingKind.Utf16]),
        text_document=types.TextDocumentClientCapabilities(
            inline_completion=types.InlineCompletionClientCapabilities()))
    await client.initialize_async(types.InitializeParams(
        capabilities=caps, root_uri=root.as_uri(),
        initialization_options={"server": {"url": url}, "completion": completion}))
    client.initialized(types.InitializedParams())
    return session


async def close_lsp(session: LspSession) -> None:
    await session.client.shutdown_async(None)
    session.client.exit(None)
    await session.client.stop()


def utf16_col(line: str, col: int) -> int:
    return len(line[:col].encode("utf-16-le")) // 2


def accept(text: str, item: types.InlineCompletionItem, line: int, col: int) -> str:
    """The document after accepting ``item`` at (line, col) as an editor does."""
    lines = text.split("\n")

    def offset(pos: types.Position) -> int:
        row = lines[pos.line]
        units = 0
        for i, ch in enumerate(row):  # UTF-16 units back to code points
            if units >= pos.character:
                return sum(len(r) + 1 for r in lines[:pos.line]) + i
            units += len(ch.encode("utf-16-le")) // 2
        return sum(len(r) + 1 for r in lines[:pos.line]) + len(row)

    insert = item.insert_text if isinstance(item.insert_text, str) else item.insert_text.value
    if item.range is not None:
        start, end = offset(item.range.start), offset(item.range.end)
    else:
        start = end = sum(len(r) + 1 for r in lines[:line]) + col
    return text[:start] + insert + text[end:]


async def lsp_complete(session: LspSession, root: Path, n: int, task: humaneval.Task
                       ) -> tuple[str, float, bool]:
    """(the accepted document, latency ms, whether a suggestion came)."""
    path = root / f"task_{n}.py"
    uri = path.as_uri()
    text = task.document
    session.client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
    await asyncio.wait_for(session.ready.wait(), 600)  # the first open document attaches the model
    line, col = task.cursor
    position = types.Position(line=line, character=utf16_col(text.split("\n")[line], col))
    params = types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=position,
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked))
    started = time.perf_counter()
    answer = await session.client.text_document_inline_completion_async(params)
    elapsed = (time.perf_counter() - started) * 1000
    session.client.text_document_did_close(types.DidCloseTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    items = answer.items if isinstance(answer, types.InlineCompletionList) else (answer or [])
    if not items:
        return text, elapsed, False
    return accept(text, items[0], line, col), elapsed, True


# ---- the run -----------------------------------------------------------------------------------
@contextmanager
def llama_server(url: str, model: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    from codeassist.config import load_settings
    from codeassist.runtime.server import ManagedServer
    from tests.support.llama import free_port

    state = Path(tempfile.mkdtemp(prefix="infill-bench-server-"))
    overrides: dict[str, Any] = {"server.port": free_port(), "server.ctx_size": 8192, "server.parallel": 1}
    if model:
        overrides["model.path"] = str(Path(model).resolve())
    settings = load_settings(None, env={}, user_config=state / "none.toml", overrides=overrides)
    server = ManagedServer(settings, state_dir=state)
    status = server.start()
    try:
        yield status.url
    finally:
        server.stop()


async def run_set(url: str, tasks: list[humaneval.Task], paths: list[str], root: Path
                  ) -> dict[str, PathResult]:
    results = {p: PathResult(p) for p in paths}
    sessions: dict[str, LspSession] = {}
    for p in paths:
        if p == "lsp" or p.startswith("lsp:"):
            sessions[p] = await open_lsp(root, url, p.split(":", 1)[1] if ":" in p else None)
    try:
        async with httpx.AsyncClient() as http:
            for n, task in enumerate(tasks):
                order = paths[n % len(paths):] + paths[:n % len(paths)]  # nobody always goes first
                for p in order:
                    res = results[p]
                    if res.unsupported:
                        continue
                    if p in sessions:
                        filled, ms, got = await lsp_complete(sessions[p], root, n, task)
                        res.empty += not got
                        res.candidates.append(filled)
                    else:
                        try:
                            hole, ms = await raw(http, url, p, task)
                        except NotImplementedError:
                            res.unsupported = True
                            continue
                        res.empty += not hole.strip()
                        res.candidates.append(task.filled(hole))
                    res.latencies.append(ms)
                done = {p: humaneval.passes(task, results[p].candidates[-1]) for p in order
                        if not results[p].unsupported and len(results[p].candidates) == n + 1}
                print(f"  {n + 1}/{len(tasks)} {task.task_id}: "
                      + ", ".join(f"{p} {'pass' if ok else 'fail'} {results[p].latencies[-1]:.0f} ms"
                                  for p, ok in done.items()), file=sys.stderr, flush=True)
    finally:
        for session in sessions.values():
            await close_lsp(session)
    for res in results.values():
        res.verdicts = humaneval.passes_all(list(zip(tasks, res.candidates, strict=False)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="GGUF to serve (default: the configured model)")
    parser.add_argument("--url", default="", help="a running llama-server instead of starting one")
    parser.add_argument("--sets", default="light,multi")
    parser.add_argument("--limit", type=int, default=None,
                        help="tasks of the light and single-line sets (fixed-seed sample)")
    parser.add_argument("--multi-limit", type=int, default=40,
                        help="tasks of the multi-line set (fixed-seed sample; 0: all 5,815)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--paths", default="raw-infill,raw-completion,lsp")
    parser.add_argument("--data", default=None, help="folder with the HumanEval infilling files")
    parser.add_argument("--json", default=None, help="write the summary and per-task results here")
    parser.add_argument("--n-predict", type=int, default=N_PREDICT, help="generation cap of every path")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="a [completion] setting for the engine's paths, e.g. latency_ms=0 (JSON value)")
    parser.add_argument("--lsp-log", default=None, metavar="FILE",
                        help="the language server's debug log: each raw answer and what was shown")
    args = parser.parse_args()
    LSP_LOG[:] = [args.lsp_log] if args.lsp_log else []
    for option in args.option:
        key, _, value = option.partition("=")
        try:
            OPTIONS[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            OPTIONS[key.strip()] = value
    CAP["n_predict"] = args.n_predict
    folder = humaneval.data_dir(args.data)
    paths = [p.strip() for p in args.paths.split(",") if p.strip()]
    report: dict[str, Any] = {"model": args.model or "(configured)", "paths": paths, "seed": args.seed,
                              "options": OPTIONS,
                              "n_predict": args.n_predict, "sets": {}}
    details: dict[str, Any] = {}
    with llama_server(args.url, args.model) as url, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / ".git").mkdir()  # the repository root of the LSP server: nothing else in it
        for name in [s.strip() for s in args.sets.split(",") if s.strip()]:
            limit = args.limit if name in ("light", "single") else args.multi_limit
            tasks = humaneval.sample(humaneval.load(name, folder), limit, args.seed)
            print(f"{name}: {len(tasks)} tasks x {len(paths)} paths", file=sys.stderr)
            started = time.perf_counter()
            results = asyncio.run(run_set(url, tasks, paths, root))
            report["sets"][name] = {"tasks": len(tasks), "wall_s": round(time.perf_counter() - started, 1),
                                    **{p: r.summary() for p, r in results.items() if not r.unsupported}}
            details[name] = [{"task_id": t.task_id, **{p: {"pass": r.verdicts[i], "filled": r.candidates[i]}
                                                       for p, r in results.items() if not r.unsupported}}
                             for i, t in enumerate(tasks)]
    print(json.dumps(report, indent=2))
    for name, rows in report["sets"].items():
        print(f"\n{name} ({rows['tasks']} tasks, {rows['wall_s']} s):")
        for p in paths:
            if p in rows:
                r = rows[p]
                lat = r["latency_ms"] or {"median": float("nan"), "p95": float("nan")}
                print(f"  {p:<22} pass@1 {r['pass@1']:5.1f}%  ({r['passed']}/{r['tasks']}, "
                      f"{r['empty']} empty)  latency median {lat['median']:.0f} ms, p95 {lat['p95']:.0f} ms")
    if args.json:
        Path(args.json).write_text(json.dumps({**report, "tasks": details}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
