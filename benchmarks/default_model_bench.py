"""Which offline model should a fresh install use? The candidates side by side, in one run.

For each offline model of the catalogue (they install from the package index), a llama-server is
started the product's way (``ManagedServer``: the model's own chat template, or llama.cpp's
built-in one of its family) on ``--threads`` CPU threads, and measured on:

- **chat**: everyday coding questions (Python, JavaScript, shell, git) asked through the
  product's chat (``ChatSession``, route local, what ``codeassist ask`` prints); an answer is
  correct when it contains what a right answer must contain (e.g. "reverse a list in Python" →
  ``[::-1]``, ``.reverse()`` or ``reversed(``). Any turn marker in the shown text counts as debris;
- **latency**: time to the first token and to the whole answer (median and p95), tokens/s;
- **completion quality**: HumanEval infilling pass@1 (light set, a fixed-seed sample) through
  ``benchmarks/infill_bench.py`` (the engine through the LSP, and ``raw-infill`` for FIM models or
  ``raw-completion`` for the others),
  when that benchmark is there (``--infill-bench PATH`` points at another copy);
- **size**: the GGUF on disk (what the install downloads).

Usage:
    python benchmarks/default_model_bench.py [--models a,b] [--threads 2] [--max-tokens 256]
        [--every N] [--infill-limit 40] [--json OUT.json]

Figures taken on a machine shared with other work are noisy: compare within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from codeassist.chat.events import Done, Token  # noqa: E402
from codeassist.chat.session import ChatSession  # noqa: E402
from codeassist.config import load_settings  # noqa: E402
from codeassist.runtime import LocalRuntime, embedded  # noqa: E402
from codeassist.runtime.server import ManagedServer  # noqa: E402
from codeassist.runtime.templates import TURN_MARKERS  # noqa: E402
from tests.support.llama import free_port  # noqa: E402

# (topic, question, checks): every check is a regex; all must match the answer (case-sensitive
# unless the pattern says otherwise). Alternatives inside one regex: any of them will do.
QUESTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("python", "How do I reverse a list in Python?", (r"\[::-1\]|\.reverse\(\)|reversed\(",)),
    ("python", "How do I read a text file line by line in Python?",
     (r"open\(", r"for \w+ in|readlines?\(")),
    ("python", "How do I remove duplicates from a list in Python?", (r"set\(|dict\.fromkeys",)),
    ("python", "How do I sort a list of dicts by the key 'age' in Python?",
     (r"sorted\(|\.sort\(", r"key\s*=")),
    ("python", "How do I parse a JSON string into a dict in Python?", (r"json\.loads\(",)),
    ("python", "How do I create a virtual environment for a Python project?", (r"venv|virtualenv",)),
    ("python", "How do I merge two dictionaries in Python 3?", (r"\{\*\*|\w+ \| \w+|update\(",)),
    ("python", "How do I convert a string to an integer in Python?", (r"int\(",)),
    ("python", "How do I run a shell command from Python and capture its output?", (r"subprocess",)),
    ("python", "How do I get the current date and time in Python?", (r"datetime", r"now\(")),
    ("javascript", "In JavaScript, how do I check whether an array contains a value?",
     (r"\.includes\(|\.indexOf\(",)),
    ("javascript", "How do I parse a JSON string in JavaScript?", (r"JSON\.parse\(",)),
    ("javascript", "In JavaScript, how do I remove duplicate values from an array?",
     (r"new Set\(|\.filter\(",)),
    ("javascript", "How do I make an HTTP GET request in JavaScript in the browser?",
     (r"fetch\(|XMLHttpRequest|axios",)),
    ("javascript", "How do I turn an object into a JSON string in JavaScript?", (r"JSON\.stringify\(",)),
    ("javascript", "In JavaScript, how do I wait 2 seconds inside an async function?",
     (r"setTimeout", r"Promise|await")),
    ("shell", "In bash, how do I find all files named *.py under the current directory?",
     (r"\bfind\b", r"-i?name")),
    ("shell", "How do I count the number of lines in a file from the shell?", (r"wc -l",)),
    ("shell", "In bash, how do I search for the text TODO in all files of a directory recursively?",
     (r"grep\s+(-\w*\s+)*-\w*[rR]|\brg\b|grep\s+--recursive",)),
    ("shell", "How do I make a shell script executable?", (r"chmod\s+(\+x|u\+x|a\+x|[0-7]?7[0-7][0-7])",)),
    ("shell", "On Linux, how do I see which process is listening on port 8080?",
     (r"\blsof\b|\bss\s+-|\bnetstat\b|\bfuser\b",)),
    ("git", "How do I undo the last git commit but keep the changes in my files?",
     (r"git reset", r"HEAD[~^]")),
    ("git", "How do I create a new git branch and switch to it?",
     (r"git (checkout -b|switch -c)|git branch [\w/.-]+\s[\s\S]*git (checkout|switch) [\w/.-]+",)),
    ("git", "How do I see the commit history of a single file in git?", (r"git log",)),
    ("git", "How do I discard my local changes to one file in git?",
     (r"git (checkout|restore)\b",)),
    ("git", "How do I rename the current git branch?", (r"git branch (-m|-M|--move)",)),
)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def correct(answer: str, checks: tuple[str, ...]) -> bool:
    return all(re.search(check, answer) for check in checks)


@dataclass
class ModelResult:
    name: str
    size_mb: float
    template: str
    answers: list[dict[str, Any]] = field(default_factory=list)
    infill: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        totals = [a["total_s"] for a in self.answers]
        firsts = [a["first_s"] for a in self.answers if a["first_s"] is not None]
        tokens = sum(a["tokens"] for a in self.answers)
        by_topic: dict[str, list[int]] = {}
        for a in self.answers:
            by_topic.setdefault(a["topic"], [0, 0])
            by_topic[a["topic"]][0] += a["correct"]
            by_topic[a["topic"]][1] += 1
        return {
            "model": self.name, "size_mb": round(self.size_mb), "template": self.template,
            "correct": sum(a["correct"] for a in self.answers), "questions": len(self.answers),
            "by_topic": {t: f"{c}/{n}" for t, (c, n) in by_topic.items()},
            "debris": sum(a["debris"] for a in self.answers),
            "first_token_s": {"median": round(statistics.median(firsts), 2),
                              "p95": round(pct(firsts, 0.95), 2)} if firsts else None,
            "answer_s": {"median": round(statistics.median(totals), 2), "p95": round(pct(totals, 0.95), 2)},
            "tokens_per_s": round(tokens / max(1e-6, sum(totals)), 1),
            "infill": self.infill,
        }


async def ask_all(settings: Any, root: Path, questions: list[tuple[str, str, tuple[str, ...]]],
                  result: ModelResult) -> None:
    runtime = LocalRuntime(settings)
    try:
        for topic, question, checks in questions:
            session = ChatSession(settings, runtime, None, None, root=root)  # a fresh conversation
            text, first, total, tokens = "", None, 0.0, 0
            started = time.perf_counter()
            async for event in session.answer(question, force="local"):
                if isinstance(event, Token) and first is None:
                    first = event.at - started
                if isinstance(event, Done):
                    text, total = event.text, event.stats.total_s
                    tokens = event.stats.completion_tokens
            ok = correct(text, checks)
            debris = any(marker in text for marker in TURN_MARKERS)
            result.answers.append({"topic": topic, "question": question, "correct": ok, "debris": debris,
                                   "first_s": first, "total_s": total, "tokens": tokens, "answer": text})
            print(f"  {'ok ' if ok else 'BAD'} {total:5.1f}s {question}"
                  + ("" if ok else f"\n      {text[:160]!r}"), file=sys.stderr)
    finally:
        await runtime.aclose()


def run_infill(bench: Path, url: str, model: Path, limit: int, fim: bool) -> dict[str, Any]:
    # the engine (what the user gets in the editor) and the raw request it is built on
    paths = "lsp,raw-infill" if fim else "lsp,raw-completion"
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        done = subprocess.run([sys.executable, str(bench), "--url", url, "--model", str(model),
                               "--sets", "light", "--limit", str(limit), "--paths", paths,
                               "--json", out.name], capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            return {"error": done.stderr.strip().splitlines()[-1:] or ["failed"]}
        report = json.loads(Path(out.name).read_text())
    light = report["sets"]["light"]
    return {p: {"pass@1": light[p]["pass@1"], "passed": light[p]["passed"], "tasks": light[p]["tasks"],
                "latency_ms": light[p]["latency_ms"]} for p in paths.split(",") if p in light}


def bench_model(name: str, args: argparse.Namespace, root: Path) -> ModelResult:
    spec = embedded.find(name)
    if spec is None:
        raise SystemExit(f"{name} is not an offline model ({', '.join(m.name for m in embedded.EMBEDDED)})")
    path = embedded.assemble(spec, report=lambda msg: print(f"  {msg}", file=sys.stderr))
    state = Path(tempfile.mkdtemp(prefix="default-model-bench-"))
    settings = load_settings(None, env={}, user_config=state / "none.toml", overrides={
        "model.name": name, "server.port": free_port(), "server.ctx_size": 4096, "server.parallel": 2,
        "server.threads": args.threads, "chat.max_tokens": args.max_tokens, "chat.history": False,
        "privacy.cloud": False, "server.startup_timeout": 300.0})
    server = ManagedServer(settings, state_dir=state)
    status = server.start()
    command = " ".join(status.command)
    if "--chat-template-file " in command:
        template = f"codeassist's {Path(command.split('--chat-template-file ', 1)[1].split()[0]).stem}"
    elif "--chat-template " in command:
        template = f"built-in {command.split('--chat-template ', 1)[1].split()[0]}"
    else:
        template = "the model's own (jinja)"
    result = ModelResult(name, path.stat().st_size / 1e6, template)
    try:
        attached = load_settings(None, env={}, user_config=state / "none.toml", overrides={
            "server.url": status.url, "model.name": name, "chat.max_tokens": args.max_tokens,
            "chat.history": False, "privacy.cloud": False})
        questions = list(QUESTIONS[::args.every])
        asyncio.run(ask_all(attached, root, questions, result))
        bench = Path(args.infill_bench) if args.infill_bench else HERE / "infill_bench.py"
        if args.infill_limit > 0 and bench.is_file():
            print(f"  infill: {args.infill_limit} tasks of the light set", file=sys.stderr)
            result.infill = run_infill(bench, status.url, path, args.infill_limit, spec.fim)
        elif args.infill_limit > 0:
            result.infill = {"skipped": f"{bench} not found"}
    finally:
        server.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(m.name for m in embedded.EMBEDDED))
    parser.add_argument("--threads", type=int, default=2, help="CPU threads of each llama-server")
    parser.add_argument("--max-tokens", type=int, default=256, help="answer length cap")
    parser.add_argument("--every", type=int, default=1,
                        help="ask every N-th question only (a sample across the topics)")
    parser.add_argument("--infill-limit", type=int, default=40, help="HumanEval light tasks (0: none)")
    parser.add_argument("--infill-bench", default=None, help="path of infill_bench.py")
    parser.add_argument("--json", default=None, help="write the summary and every answer here")
    args = parser.parse_args()
    results: list[ModelResult] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in [m.strip() for m in args.models.split(",") if m.strip()]:
            print(f"{name}:", file=sys.stderr)
            results.append(bench_model(name, args, Path(tmp)))
            report(results, args.json)  # after each model: a long run keeps what it measured


def report(results: list[ModelResult], json_path: str | None) -> None:
    summary = [r.summary() for r in results]
    print(json.dumps(summary[-1], indent=2))
    print("\n| model | size | template | chat correct | debris | first token med/p95 | answer med/p95 "
          "| tok/s | infill pass@1 |\n|---|---|---|---|---|---|---|---|---|")
    for s in summary:
        infill = ", ".join(f"{p} {v['pass@1']}% ({v['passed']}/{v['tasks']})"
                           for p, v in s["infill"].items() if isinstance(v, dict)) or "-"
        first = s["first_token_s"] or {"median": float("nan"), "p95": float("nan")}
        print(f"| {s['model']} | {s['size_mb']} MB | {s['template']} | {s['correct']}/{s['questions']} "
              f"| {s['debris']} | {first['median']:.1f}/{first['p95']:.1f} s "
              f"| {s['answer_s']['median']:.1f}/{s['answer_s']['p95']:.1f} s | {s['tokens_per_s']} "
              f"| {infill} |", flush=True)
    if json_path:
        Path(json_path).write_text(json.dumps({"summary": summary, "answers": {
            r.name: r.answers for r in results}}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
