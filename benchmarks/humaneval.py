"""HumanEval infilling (openai/human-eval-infilling, MIT): load the tasks, run a candidate.

The data is not copied into the repository (no test uses it): it is read from the
``human-eval-infilling`` folder next to the checkout's ``shared/data`` (any parent of this file,
or ``$CODEASSIST_HUMANEVAL_DIR``). Its README and LICENSE travel with it.

A candidate passes when ``prompt + completion + suffix + test + check(entry_point)`` runs without
an error in a fresh interpreter within the timeout. The code is untrusted model output: it runs in
its own process, in an empty temporary directory, with ``python -I`` (no user site, no
environment variables, no current directory on ``sys.path``).

    python benchmarks/humaneval.py --set light --canonical   # self-check: the reference solutions pass
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

SETS = {
    "light": "HumanEval-RandomSpanInfillingLight.jsonl.gz",  # 164 tasks, one random span each
    "multi": "HumanEval-MultiLineInfilling.jsonl.gz",  # 5,815 tasks, whole lines removed
    # 1,033 tasks: the multi-line tasks whose hole is one whole line (the upstream
    # HumanEval-SingleLineInfilling set is exactly these)
    "single": "HumanEval-MultiLineInfilling.jsonl.gz",
}
DIR_NAME = "human-eval-infilling"


@dataclass(frozen=True)
class Task:
    task_id: str
    prompt: str  # text before the hole
    suffix: str  # text after the hole
    canonical_solution: str
    test: str
    entry_point: str

    @property
    def document(self) -> str:
        """The file the user sees: the hole removed."""
        return self.prompt + self.suffix

    @property
    def cursor(self) -> tuple[int, int]:
        """(line, column) of the hole, 0-based, column in code points."""
        lines = self.prompt.split("\n")
        return len(lines) - 1, len(lines[-1])

    def filled(self, completion: str) -> str:
        """The file with ``completion`` in the hole."""
        return self.prompt + completion + self.suffix

    def program(self, document: str) -> str:
        """The filled-in file followed by the task's tests."""
        return document + "\n" + self.test + f"\ncheck({self.entry_point})\n"


def data_dir(explicit: str | None = None) -> Path:
    """The folder with the task files; a clear SystemExit when it is nowhere to be found."""
    candidates: list[Path] = []
    if explicit:
        candidates.append(Path(explicit))
    if os.environ.get("CODEASSIST_HUMANEVAL_DIR"):
        candidates.append(Path(os.environ["CODEASSIST_HUMANEVAL_DIR"]))
    here = Path(__file__).resolve()
    candidates += [parent / "shared" / "data" / DIR_NAME for parent in here.parents]
    for path in candidates:
        if (path / SETS["light"]).is_file():
            return path
    raise SystemExit(f"HumanEval infilling data not found (looked in {', '.join(map(str, candidates[:4]))} "
                     f"...): pass --data DIR or set CODEASSIST_HUMANEVAL_DIR to the folder holding "
                     f"{SETS['light']}.")


def load(name: str, folder: Path) -> list[Task]:
    if name not in SETS:
        raise SystemExit(f"unknown set {name!r}: choose one of {', '.join(SETS)}")
    with gzip.open(folder / SETS[name], "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    if name == "single":
        rows = [r for r in rows if r["canonical_solution"].count("\n") <= 1]
    return [Task(r["task_id"], r["prompt"], r["suffix"], r["canonical_solution"], r["test"],
                 r["entry_point"]) for r in rows]


def sample(tasks: list[Task], limit: int | None, seed: int) -> list[Task]:
    """``limit`` tasks drawn with a fixed seed (all of them, in order, without a limit)."""
    if not limit or limit >= len(tasks):
        return list(tasks)
    picked = random.Random(seed).sample(range(len(tasks)), limit)
    return [tasks[i] for i in sorted(picked)]


def passes(task: Task, document: str, timeout: float = 10.0) -> bool:
    """Whether ``document`` (the task's file, filled in) passes the task's tests."""
    with tempfile.TemporaryDirectory(prefix="humaneval-") as tmp:
        script = Path(tmp) / "candidate.py"
        script.write_text(task.program(document), encoding="utf-8")
        try:
            done = subprocess.run([sys.executable, "-I", str(script)], cwd=tmp, timeout=timeout,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, env={"PATH": os.defpath})
        except subprocess.TimeoutExpired:
            return False
    return done.returncode == 0


def passes_all(pairs: Iterable[tuple[Task, str]], timeout: float = 10.0, workers: int = 2) -> list[bool]:
    """:func:`passes` for (task, filled-in document) pairs, a few at a time."""
    items = list(pairs)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda p: passes(p[0], p[1], timeout), items))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", default="light", choices=sorted(SETS))
    parser.add_argument("--data", default=None, help="folder with the .jsonl.gz files")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--canonical", action="store_true", help="check the reference solutions pass")
    args = parser.parse_args()
    tasks = sample(load(args.set, data_dir(args.data)), args.limit, args.seed)
    fill = [(t, t.filled(t.canonical_solution if args.canonical else "")) for t in tasks]
    ok = passes_all(fill)
    print(json.dumps({"set": args.set, "tasks": len(tasks), "passed": sum(ok),
                      "pass@1": round(100 * sum(ok) / max(1, len(ok)), 1)}))


if __name__ == "__main__":
    main()
