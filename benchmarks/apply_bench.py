"""Apply-engine benchmark: codeassist's ``str_replace`` policy vs aider's SEARCH/REPLACE applier.

A corpus of realistic edits (old/new text pairs) is cut from real code nobody here wrote — the
running interpreter's standard library — in five kinds:

- exact:       the old text is copied exactly and occurs once;
- whitespace:  the model's copy drifted (indentation dropped or added uniformly, trailing blanks);
- elision:     a long old text with its middle elided by a ``...`` line in old and new;
- ambiguous:   the old text occurs several times; the edit was meant for one of them (random);
- stale:       the file changed since the model saw it (one line of the snippet was edited), so
               the intended text is gone and the right answer is to refuse.

Both appliers get the same (file text, old, new) triples. aider runs in its own venv
(``aider_venv.py``) through ``do_replace``, exactly what its EditBlockCoder calls per block.
Each outcome is one of: **correct** (applied, result equals the intended file), **refused**
(nothing applied; for *stale* that is the right answer), **wrong** (applied, but the result is
not the intended file: another place, or wrong indentation). Run::

    .venv/bin/python benchmarks/apply_bench.py [--per-kind 80] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aider_venv

from codeassist.errors import EditError
from codeassist.refactor.matching import replace_unique

KINDS = ("exact", "whitespace", "elision", "ambiguous", "stale")
_WORD = re.compile(r"\b[a-z_][a-z0-9_]{2,}\b")
_NUMBER = re.compile(r"(?<![\w.])\d+(?![\w.])")


@dataclass(frozen=True)
class Case:
    kind: str
    source: str  # file it was cut from
    text: str  # the file as it is when the edit is applied
    old: str
    new: str
    expected: str | None  # the intended file; None: the right answer is to refuse
    retries: tuple[tuple[str, str], ...] = ()  # (old, new) with 1, 2, 3 more lines of context


def retries_for(lines: list[str], start: int, size: int, new: list[str]) -> tuple[tuple[str, str], ...]:
    """What a model sends after a refusal: the exact text of the place it meant, with more context
    (it views the file again, so the copy is exact and the elision is gone)."""
    out = []
    for k in (1, 2, 3):
        lo, hi = max(0, start - k), min(len(lines), start + size + k)
        out.append(("".join(lines[lo:hi]), "".join(lines[lo:start] + new + lines[start + size:hi])))
    return tuple(out)


def stdlib_files(limit: int, rng: random.Random) -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in root.glob("*.py") if 3_000 < p.stat().st_size < 120_000)
    rng.shuffle(files)
    return files[:limit]


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def modify(lines: list[str], rng: random.Random) -> list[str] | None:
    """A realistic small change of a snippet: rename a name, add a line, or change a number."""
    body = "".join(lines)
    choice = rng.choice(("rename", "insert", "number"))
    if choice == "number" and _NUMBER.search(body):
        i = next(i for i, ln in enumerate(lines) if _NUMBER.search(ln))
        bumped = _NUMBER.sub(lambda m: str(int(m.group(0)) + 1), lines[i], count=1)
        return [*lines[:i], bumped, *lines[i + 1:]]
    if choice == "insert" and len(lines) >= 2:
        at = rng.randrange(1, len(lines))
        indent = _indent(lines[at]) if lines[at].strip() else _indent(lines[at - 1])
        return [*lines[:at], f"{indent}_trace('checkpoint {at}')\n", *lines[at:]]
    words = sorted(set(_WORD.findall(body)) - {"self", "def", "return", "class", "import", "from", "none"})
    if not words:
        return None
    word = rng.choice(words)
    return [re.sub(rf"\b{word}\b", f"{word}_v2", ln) for ln in lines]


def windows(lines: list[str], size: int) -> list[int]:
    """Start lines of snippets that begin and end on a non-blank line."""
    return [i for i in range(len(lines) - size) if lines[i].strip() and lines[i + size - 1].strip()]


def _case(kind: str, path: Path, text: str, old: list[str], new: list[str], start: int,
          lines: list[str]) -> Case:
    size = len(old)
    expected = "".join(lines[:start] + new + lines[start + size:])
    return Case(kind, path.name, text, "".join(old), "".join(new), expected,
                retries_for(lines, start, size, new))


def make_exact(path: Path, lines: list[str], rng: random.Random) -> Case | None:
    text = "".join(lines)
    size = rng.randint(3, 8)
    for start in rng.sample(windows(lines, size), min(20, len(windows(lines, size)))):
        old = lines[start:start + size]
        new = modify(old, rng)
        if new and new != old and text.count("".join(old)) == 1:
            return _case("exact", path, text, old, new, start, lines)
    return None


def make_whitespace(path: Path, lines: list[str], rng: random.Random) -> Case | None:
    base = make_exact(path, lines, rng)
    if base is None:
        return None
    old_lines, new_lines = base.old.splitlines(True), base.new.splitlines(True)
    style = rng.choice(("dedent", "indent", "trailing"))
    if style == "trailing":
        drifted = [ln.rstrip("\n") + "  \n" if i % 2 == 0 and ln.strip() else ln
                   for i, ln in enumerate(old_lines)]
        return Case("whitespace", base.source, base.text, "".join(drifted), base.new, base.expected,
                    base.retries)
    common = min(len(_indent(ln)) for ln in old_lines + new_lines if ln.strip())
    def shift(block: list[str]) -> list[str]:
        if style == "dedent" and common >= 4:
            return [ln[4:] if ln.strip() else ln for ln in block]
        return ["    " + ln if ln.strip() else ln for ln in block]

    cut = shift(old_lines), shift(new_lines)
    return Case("whitespace", base.source, base.text, "".join(cut[0]), "".join(cut[1]), base.expected,
                base.retries)


def make_elision(path: Path, lines: list[str], rng: random.Random) -> Case | None:
    text = "".join(lines)
    size = rng.randint(10, 18)
    starts = windows(lines, size)
    for start in rng.sample(starts, min(20, len(starts))):
        snippet = lines[start:start + size]
        head, tail = snippet[:2], snippet[-3:]
        if text.count("".join(head)) != 1 or text.count("".join(tail)) != 1:
            continue
        changed = modify(tail, rng)
        if not changed or changed == tail:
            continue
        # both spellings seen in model output: a bare `...` line and a comment saying so
        marker = _indent(snippet[2]) + rng.choice(("...", "# ... existing code ...")) + "\n"
        old = [*head, marker, *tail]
        new = [*head, marker, *changed]
        full_new = snippet[:-3] + changed
        expected = "".join(lines[:start] + full_new + lines[start + size:])
        return Case("elision", path.name, text, "".join(old), "".join(new), expected,
                    retries_for(lines, start, size, full_new))
    return None


def make_ambiguous(path: Path, lines: list[str], rng: random.Random) -> Case | None:
    text = "".join(lines)
    size = rng.randint(1, 3)
    seen: dict[str, list[int]] = {}
    for start in windows(lines, size):
        chunk = "".join(lines[start:start + size])
        if len(chunk.strip()) >= 12:
            seen.setdefault(chunk, []).append(start)
    repeated = [(chunk, starts) for chunk, starts in seen.items() if len(starts) > 1 and
                text.count(chunk) == len(starts)]
    if not repeated:
        return None
    chunk, starts = rng.choice(sorted(repeated))
    start = rng.choice(starts)
    old = lines[start:start + size]
    new = modify(old, rng)
    if not new or new == old:
        return None
    return _case("ambiguous", path, text, old, new, start, lines)


def make_stale(path: Path, lines: list[str], rng: random.Random) -> Case | None:
    base = make_exact(path, lines, rng)
    if base is None:
        return None
    old_lines = base.old.splitlines(True)
    start = base.text.index(base.old)
    middle = [i for i, ln in enumerate(old_lines) if _WORD.search(ln)]
    if not middle:
        return None
    i = rng.choice(middle)
    word = rng.choice(_WORD.findall(old_lines[i]))
    renamed = re.sub(rf"\b{word}\b", f"{word}_renamed", old_lines[i], count=1)
    edited = [*old_lines[:i], renamed, *old_lines[i + 1:]]
    current = base.text[:start] + "".join(edited) + base.text[start + len(base.old):]
    return Case("stale", base.source, current, base.old, base.new, None)


MAKERS: dict[str, Callable[[Path, list[str], random.Random], Case | None]] = {
    "exact": make_exact, "whitespace": make_whitespace, "elision": make_elision,
    "ambiguous": make_ambiguous, "stale": make_stale,
}


def build_corpus(per_kind: int, seed: int) -> list[Case]:
    rng = random.Random(seed)
    files = stdlib_files(400, rng)
    corpus: list[Case] = []
    for kind in KINDS:
        made = 0
        for path in files * 3:
            if made == per_kind:
                break
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines(True)
            case = MAKERS[kind](path, lines, rng)
            if case is not None:
                corpus.append(case)
                made += 1
    return corpus


def outcome(case: Case, result: str | None) -> str:
    if result is None or result == case.text:
        return "refused"
    return "correct" if result == case.expected else "wrong"


Triple = tuple[str, str, str]  # (file text, old, new)


def apply_codeassist(triples: list[Triple]) -> tuple[list[str | None], list[float]]:
    texts: list[str | None] = []
    seconds: list[float] = []
    for text, old, new in triples:
        start = time.perf_counter()
        try:
            texts.append(replace_unique(text, old, new).text)
        except EditError:
            texts.append(None)
        seconds.append(time.perf_counter() - start)
    return texts, seconds


def apply_aider(triples: list[Triple]) -> tuple[list[str | None], list[float]]:
    python = aider_venv.ensure()
    runner = Path(__file__).resolve().parent / "apply_aider_runner.py"
    payload = json.dumps([{"text": t, "old": o, "new": n} for t, o, n in triples])
    proc = subprocess.run([str(python), str(runner)], input=payload, capture_output=True, text=True,
                          check=True)
    results = json.loads(proc.stdout)
    return [r["text"] for r in results], [r["seconds"] for r in results]


Applier = Callable[[list[Triple]], tuple[list[str | None], list[float]]]


def with_retries(corpus: list[Case], first: list[str | None], apply: Applier) -> list[str | None]:
    """After a refusal the model sends the exact text with more context (up to 3 times), as the
    tool loop does; an edit applied (rightly or wrongly) is final, since the applier said ok."""
    final = list(first)
    for attempt in range(3):
        pending = [i for i, c in enumerate(corpus) if c.retries and (final[i] is None or final[i] == c.text)]
        if not pending:
            break
        texts, _ = apply([(corpus[i].text, *corpus[i].retries[attempt]) for i in pending])
        for i, text in zip(pending, texts, strict=True):
            final[i] = text
    return final


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def report(corpus: list[Case], name: str, texts: list[str | None], seconds: list[float]) -> dict[str, object]:
    rows: dict[str, dict[str, int]] = {}
    for case, text in zip(corpus, texts, strict=True):
        counts = rows.setdefault(case.kind, {"correct": 0, "refused": 0, "wrong": 0})
        counts[outcome(case, text)] += 1
    total = {k: sum(r[k] for r in rows.values()) for k in ("correct", "refused", "wrong")}
    solvable = [c for c in corpus if c.expected is not None]
    safe_stale = rows.get("stale", {}).get("refused", 0)
    return {"name": name, "rows": rows, "total": total, "n": len(corpus), "solvable": len(solvable),
            "success": (total["correct"]) / len(solvable), "wrong_rate": total["wrong"] / len(corpus),
            "safe_stale": safe_stale, "median_us": statistics.median(seconds) * 1e6,
            "p95_us": p95(seconds) * 1e6}


def print_table(results: list[dict[str, object]]) -> None:
    print(f"{'kind':<11}" + "".join(f"{r['name'] + ' correct/refused/wrong':>40}" for r in results))
    for kind in KINDS:
        cells = []
        for r in results:
            row = r["rows"].get(kind, {"correct": 0, "refused": 0, "wrong": 0})  # type: ignore[attr-defined]
            cells.append(f"{row['correct']:>26}/{row['refused']:>6}/{row['wrong']:>6}")
        print(f"{kind:<11}" + "".join(cells))
    print()
    for r in results:
        t = r["total"]
        print(f"{r['name']:>10}: success {r['success']:.1%} of {r['solvable']} solvable edits "
              f"(correct {t['correct']}, refused {t['refused']}, wrong {t['wrong']} = "  # type: ignore[index]
              f"{r['wrong_rate']:.1%} of {r['n']}); stale refused {r['safe_stale']}; "
              f"apply median {r['median_us']:.0f} µs, p95 {r['p95_us']:.0f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-kind", type=int, default=80)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="Also write the figures as JSON here.")
    args = parser.parse_args()
    corpus = build_corpus(args.per_kind, args.seed)
    counts = {k: sum(c.kind == k for c in corpus) for k in KINDS}
    print(f"corpus: {len(corpus)} edits from the standard library of Python {sys.version.split()[0]} "
          f"({', '.join(f'{k} {n}' for k, n in counts.items())}), seed {args.seed}\n")
    triples = [(c.text, c.old, c.new) for c in corpus]
    results = []
    for name, apply in (("codeassist", apply_codeassist), ("aider", apply_aider)):
        first, seconds = apply(triples)
        results.append(report(corpus, name, first, seconds))
        results.append(report(corpus, f"{name}+retry", with_retries(corpus, first, apply), seconds))
    print("First attempt (one edit, one answer):")
    print_table([results[0], results[2]])
    print("\nWith the tool loop's retries (after a refusal the model resends the exact text with more "
          "context, up to 3 times):")
    print_table([results[1], results[3]])
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
