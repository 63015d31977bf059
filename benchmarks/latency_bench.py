"""Completion latency through `codeassist lsp` in large real files, default settings.

Per language a 2,000-line file of real code nobody here wrote (Python: click's ``core.py``; Go:
``net/http/server.go`` from Debian's golang-1.19-src; Java: ``java/util/HashMap.java`` from
openjdk-17-source; JavaScript: lodash's ``lodash.js`` from npm), cut to its first 2,000 lines. At
``--spots`` positions far apart (each a cold window: the prompt cache does not cover it) the line's
code is removed down to its indentation and:

- *first completion*: the inline-completion request there, answered (ms);
- *next keystroke*: the user then types the real line's first ``--keys`` characters, one
  ``didChange`` + inline-completion request per keystroke; each answer's latency (ms). Typing
  through a shown suggestion is answered from the cache; other keystrokes reuse the server's prompt
  cache, and the speculative request (as if the suggestion were accepted) may have prepared them.
  Also counted: the keystroke answers whose first line, after what was typed, is the file's line
  (a latency gained by showing less shows up there).

The editor's debounce is the default (150 ms; cache hits skip it). Reported: p50 and p95 per
language. The machine is shared: say so next to the figures.

    python benchmarks/latency_bench.py [--url URL | --model PATH]
        [--languages python,go,java,javascript] [--spots 6] [--keys 6] [--json OUT.json] [--lsp-log FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from lsprotocol import types

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from infill_bench import LSP_LOG, LspSession, close_lsp, llama_server, open_lsp, pct, utf16_col  # noqa: E402

LINES = 2000
LANGUAGE_IDS = {"python": "python", "go": "go", "java": "java", "javascript": "javascript"}
EXT = {"python": ".py", "go": ".go", "java": ".java", "javascript": ".js"}


def source(language: str, tmp: Path) -> str:
    if language == "python":
        return (Path(sysconfig.get_paths()["purelib"]) / "click" / "core.py").read_text(encoding="utf-8")
    if language == "go":
        return Path("/usr/share/go-1.19/src/net/http/server.go").read_text(encoding="utf-8")
    if language == "java":
        with zipfile.ZipFile("/usr/lib/jvm/java-17-openjdk-amd64/lib/src.zip") as zf:
            return zf.read("java.base/java/util/HashMap.java").decode("utf-8")
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is not on PATH (the JavaScript file comes from the lodash package)")
    subprocess.run([npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", "--prefix", str(tmp),
                    "lodash@4"], check=True, capture_output=True, timeout=600)
    return (tmp / "node_modules" / "lodash" / "lodash.js").read_text(encoding="utf-8")


def spots(lines: list[str], count: int) -> list[int]:
    """Code lines (indented, 12-100 characters, not comments) spread over the file."""
    code = [i for i, line in enumerate(lines)
            if i > 40 and line[:1].isspace() and 12 <= len(line.strip()) <= 100
            and not line.strip().startswith(("#", "//", "/*", "*", '"', "'", "@"))]
    step = max(1, len(code) // count)
    return code[step // 2::step][:count]


def change(uri: str, version: int, line: int, col: int, text: str) -> types.DidChangeTextDocumentParams:
    pos = types.Position(line=line, character=col)
    return types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangePartial(range=types.Range(start=pos, end=pos),
                                                                text=text)])


async def ask(session: LspSession, uri: str, line: int, col: int) -> tuple[float, str]:
    """The answer's latency (ms) and its first item's text ("" for none)."""
    params = types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=line, character=col),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic))
    started = time.perf_counter()
    answer = await session.client.text_document_inline_completion_async(params)
    elapsed = (time.perf_counter() - started) * 1000
    items = answer.items if isinstance(answer, types.InlineCompletionList) else (answer or [])
    text = items[0].insert_text if items else ""
    return elapsed, text if isinstance(text, str) else text.value


async def bench_language(url: str, language: str, root: Path, count: int, keys: int) -> dict[str, Any]:
    lines = source(language, root / "npm").split("\n")[:LINES]
    picks = spots(lines, count)
    held = {i: lines[i] for i in picks}
    for i in picks:
        lines[i] = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
    path = root / f"big{EXT[language]}"
    text = "\n".join(lines)
    path.write_text(text, encoding="utf-8")
    session = await open_lsp(root, url, None, {"timeout": 120})
    first: list[float] = []
    keystroke: list[float] = []
    right = 0  # keystroke answers that finish the line as the file has it
    try:
        uri = path.as_uri()
        item = types.TextDocumentItem(uri=uri, language_id=LANGUAGE_IDS[language], version=1, text=text)
        session.client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=item))
        await asyncio.wait_for(session.ready.wait(), 600)  # the open document attaches the model
        version = 1
        for i in picks:
            indent = lines[i]
            col = utf16_col(indent, len(indent))
            first.append((await ask(session, uri, i, col))[0])
            typed = indent
            for ch in held[i].strip()[:keys]:
                await asyncio.sleep(0.08)  # a fast typist's pace
                version += 1
                session.client.text_document_did_change(change(uri, version, i, col, ch))
                col += len(ch.encode("utf-16-le")) // 2
                typed += ch
                elapsed, suggestion = await ask(session, uri, i, col)
                keystroke.append(elapsed)
                right += (typed + suggestion.split("\n")[0]).rstrip() == held[i].rstrip()
    finally:
        await close_lsp(session)

    def stats(values: list[float]) -> dict[str, float]:
        return {"n": len(values), "p50": round(statistics.median(values), 1),
                "p95": round(pct(values, 0.95), 1)}

    return {"file_lines": len(lines), "first_ms": stats(first), "keystroke_ms": stats(keystroke),
            "keystroke_line_right": right}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="")
    parser.add_argument("--model", default=None)
    parser.add_argument("--languages", default="python,go,java,javascript")
    parser.add_argument("--spots", type=int, default=6)
    parser.add_argument("--keys", type=int, default=6)
    parser.add_argument("--json", default=None)
    parser.add_argument("--lsp-log", default=None, metavar="FILE", help="the language server's debug log")
    args = parser.parse_args()
    LSP_LOG[:] = [args.lsp_log] if args.lsp_log else []
    out: dict[str, Any] = {}
    with llama_server(args.url, args.model) as url:
        for language in [x.strip() for x in args.languages.split(",") if x.strip()]:
            with tempfile.TemporaryDirectory() as tmp:
                root = Path(tmp)
                (root / ".git").mkdir()
                out[language] = asyncio.run(bench_language(url, language, root, args.spots, args.keys))
            print(json.dumps({language: out[language]}), flush=True)
    print(f"\n{'language':<12} {'first p50':>10} {'first p95':>10} {'key p50':>8} {'key p95':>8}  (ms)"
          "  line right after a keystroke")
    for language, row in out.items():
        print(f"{language:<12} {row['first_ms']['p50']:>10} {row['first_ms']['p95']:>10} "
              f"{row['keystroke_ms']['p50']:>8} {row['keystroke_ms']['p95']:>8}  "
              f"{row['keystroke_line_right']}/{row['keystroke_ms']['n']}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
