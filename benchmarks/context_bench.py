"""Repository context per language, on real code nobody here wrote: with vs without context.

Per language, a repository is made of real sources (copied into a temporary directory and
indexed): Python from installed site-packages, Go from Debian's ``golang-1.19-src``, Java from
``openjdk-17-source`` (``lib/src.zip``), JavaScript from npm packages installed into a temporary
directory. Positions are held-out lines inside code (indented, 12-100 characters, not comments,
after line 20), drawn with a fixed seed; the line is removed down to its indentation and the
engine completes there, once without repository context and once with it. Score: exact match and
edit similarity of the first suggested line (0-100 points). The JSON keeps every position: the
line, the suggestion without and with context, and the context chunks that were sent.

    python benchmarks/context_bench.py [--url URL | --model PATH]
        [--languages python,go,java,javascript] [--positions 50] [--seed 0] [--json OUT.json]

Set-up for the sources (once): ``apt-get install golang-1.19-src openjdk-17-source`` and npm on
PATH (JavaScript packages are installed with ``npm install`` into the temporary directory).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from complete_bench import (  # noqa: E402
    BENCH,
    QUALITY_PACKAGES,
    Position,
    copy_packages,
    edit_similarity,
    open_index,
    summary,
)
from infill_bench import llama_server  # noqa: E402

from codeassist.completion import CompletionEngine, CompletionRequest  # noqa: E402
from codeassist.config import load_settings  # noqa: E402
from codeassist.runtime import LocalRuntime  # noqa: E402

GO_SRC = Path("/usr/share/go-1.19/src")
GO_PACKAGES = ("net/http", "encoding/json", "go/parser", "go/printer", "text/template", "archive/tar")
JAVA_ZIP = Path("/usr/lib/jvm/java-17-openjdk-amd64/lib/src.zip")
JAVA_PREFIXES = ("java.base/java/util/", "java.base/java/time/", "java.net.http/")
NPM_PACKAGES = ("express@4", "commander@12", "yargs@17", "ws@8")
EXT = {"python": ".py", "go": ".go", "java": ".java", "javascript": ".js"}
COMMENTS = ("#", "//", "/*", "*", '"""', "'''", "@")


def python_repo(root: Path) -> None:
    copy_packages(root, QUALITY_PACKAGES)


def go_repo(root: Path) -> None:
    if not GO_SRC.is_dir():
        raise SystemExit(f"{GO_SRC} is missing: apt-get install golang-1.19-src")
    for pkg in GO_PACKAGES:
        for src in (GO_SRC / pkg).glob("*.go"):
            if not src.name.endswith("_test.go"):
                dest = root / pkg / src.name
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dest)


def java_repo(root: Path) -> None:
    if not JAVA_ZIP.is_file():
        raise SystemExit(f"{JAVA_ZIP} is missing: apt-get install openjdk-17-source")
    with zipfile.ZipFile(JAVA_ZIP) as zf:
        names = [n for n in zf.namelist() if n.endswith(".java") and n.startswith(JAVA_PREFIXES)
                 and n.count("/") <= 4]
        for name in names[:600]:
            dest = root / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(zf.read(name))


def javascript_repo(root: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is not on PATH: JavaScript sources come from npm packages")
    with tempfile.TemporaryDirectory(prefix="ctx-npm-") as tmp:
        subprocess.run([npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", "--prefix", tmp,
                        *NPM_PACKAGES], check=True, capture_output=True, timeout=600)
        for src in (Path(tmp) / "node_modules").rglob("*.js"):
            rel = src.relative_to(Path(tmp) / "node_modules")
            if (not src.is_file() or ".min." in src.name or "test" in rel.parts  # `ipaddr.js/` is a folder
                    or src.stat().st_size > 200_000):
                continue
            dest = root / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)


BUILDERS = {"python": python_repo, "go": go_repo, "java": java_repo, "javascript": javascript_repo}


def code_lines(lines: list[str]) -> list[int]:
    out = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        if i <= 20 or not line[:1].isspace() or not 12 <= len(stripped) <= 100:
            continue
        if stripped.startswith(COMMENTS):
            continue
        out.append(i)
    return out


def positions(root: Path, language: str, count: int, seed: int) -> list[Position]:
    rng = random.Random(seed)
    files = sorted(p for p in root.rglob(f"*{EXT[language]}") if p.is_file())
    rng.shuffle(files)
    picked: list[Position] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        lines = text.split("\n")
        for i in rng.sample(code_lines(lines), min(1, len(code_lines(lines)))):
            indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
            cut = [*lines[:i], indent, *lines[i + 1:]]
            picked.append(Position(path, "\n".join(cut), i, len(indent), lines[i].strip()))
        if len(picked) >= count:
            break
    return picked


async def score(runtime: LocalRuntime, index: Any, spots: list[Position], root: Path, language: str,
                context_tokens: int) -> dict[str, Any]:
    settings = replace(BENCH, context_tokens=context_tokens)
    engine = CompletionEngine(runtime, index if context_tokens else None, settings, root=root)
    sims: list[float] = []
    exact = 0
    latency: list[float] = []
    rows: list[dict[str, Any]] = []
    for pos in spots:
        if index is not None:
            index.update_file(pos.path, pos.text)
        request = CompletionRequest(pos.text, pos.line, pos.col, str(pos.path), language)
        result = await engine.complete(request)
        got = result.items[0].split("\n", 1)[0].strip() if result.items else ""
        exact += got == pos.expected
        sims.append(edit_similarity(got, pos.expected))
        latency.append(result.timings.total_ms)
        rows.append({"path": str(pos.path.relative_to(root)), "line": pos.line + 1, "expected": pos.expected,
                     "got": got, "similarity": round(100 * sims[-1], 1),
                     "context": [f"{c.kind} {c.path}:{c.start_line + 1}-{c.end_line}"
                                 for c in result.context]})
        if index is not None:
            index.update_file(pos.path, pos.path.read_text(encoding="utf-8"))
    return {"context_tokens": context_tokens, "positions": len(spots), "exact": exact,
            "edit_similarity": round(100 * statistics.fmean(sims), 1), "latency_ms": summary(latency),
            "mode": engine.mode, "items": rows}


async def run(url: str, languages: list[str], count: int, seed: int, work: Path) -> dict[str, Any]:
    settings = load_settings(None, overrides={"server.url": url}, env={}, user_config=work / "none.toml")
    runtime = LocalRuntime(settings)
    out: dict[str, Any] = {}
    try:
        for language in languages:
            root = work / language
            root.mkdir()
            (root / ".git").mkdir()
            BUILDERS[language](root)
            index = open_index(root)
            try:
                spots = positions(root, language, count, seed)
                without = await score(runtime, index, spots, root, language, 0)
                with_ctx = await score(runtime, index, spots, root, language, BENCH.context_tokens)
            finally:
                index.close()
            delta = round(with_ctx["edit_similarity"] - without["edit_similarity"], 1)
            out[language] = {"without": without, "with": with_ctx, "delta_points": delta}
            print(json.dumps({language: {k: ({kk: vv for kk, vv in v.items() if kk != "items"}
                                              if isinstance(v, dict) else v)
                                          for k, v in out[language].items()}}), flush=True)
    finally:
        await runtime.aclose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="")
    parser.add_argument("--model", default=None)
    parser.add_argument("--languages", default="python,go,java,javascript")
    parser.add_argument("--positions", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    languages = [x.strip() for x in args.languages.split(",") if x.strip()]
    with llama_server(args.url, args.model) as url, tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(run(url, languages, args.positions, args.seed, Path(tmp)))
    print(f"\n{'language':<12} {'without':>8} {'with':>8} {'delta':>7}  (edit similarity, points)")
    for language, row in result.items():
        print(f"{language:<12} {row['without']['edit_similarity']:>8} {row['with']['edit_similarity']:>8} "
              f"{row['delta_points']:>+7}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
