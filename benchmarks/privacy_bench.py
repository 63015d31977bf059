"""Privacy guard benchmark: recall per egress path, false positives on real code, cost.

    .venv/bin/python benchmarks/privacy_bench.py [--max-files 4000] [--json out.json]

1. Recall: the secret corpus of tests/privacy/corpus.py (fake-but-realistic secrets in the files of
   a small project) goes through :meth:`PrivacyGuard.seal` — the one egress function — in the shape
   of every egress path (question text, stdin, added/mentioned file, repo map, resumed history,
   refactor context, ``view`` result, ``str_replace`` echo, error message quoting a line, test output
   of a repair round, diff/commit text, ``count_tokens`` pre-flight). Recall = secrets absent from
   the sealed body / secrets planted, per path.
2. False positives: every ``.py`` file of the interpreter's standard library and site-packages (code
   nobody here wrote) is redacted; each redaction there counts as a false hit (their test vectors and
   documented example keys included). Reported per 1,000 lines, with the ten most common hits.
3. Cost: the guard's redaction time per 100 KB of that real code, median and p95 (CPU time of the
   process, and wall time, which on a shared machine includes waiting for a core).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import sysconfig
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from codeassist.config import PrivacySettings
from codeassist.privacy import PrivacyGuard
from tests.privacy.corpus import Planted, build


def _pieces(value: str) -> list[str]:
    """The parts of a planted value that must not arrive (each line of a multi-line key)."""
    lines = value.replace("\\n", "\n").split("\n")
    return [x for x in lines if len(x) >= 8 and not x.startswith("-----")] or [value]


def _path_bodies(files: dict[str, str]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """For each egress path: (file, request body) pairs carrying that file's text the way the path does."""
    out: dict[str, list[tuple[str, dict[str, Any]]]] = {}

    def user(text: str) -> dict[str, Any]:
        return {"messages": [{"role": "user", "content": text}]}

    for path, text in files.items():
        numbered = "\n".join(f"{n:6}\t{line}" for n, line in enumerate(text.splitlines(), 1))
        first = text.splitlines()[-1]
        tool = {"type": "tool_use", "id": "t1", "name": "str_replace_based_edit_tool",
                "input": {"command": "view", "path": path}}
        bodies = {
            "question": user(f"why does this fail?\n{text}"),
            "stdin": user(f"review this:\n\n{text}"),
            "added_file": {"system": [{"type": "text", "text": f'<file path="{path}">\n{text}\n</file>'}],
                           **user("explain")},
            "repo_map": {"system": [{"type": "text", "text": f"<repository_map>\n{path}:\n{text}\n"
                                                             "</repository_map>"}], **user("hi")},
            "resumed_history": {"messages": [{"role": "user", "content": f"look:\n{text}"},
                                             {"role": "assistant", "content": f"It reads:\n{text}"},
                                             {"role": "user", "content": "and now?"}]},
            "refactor_context": {"system": [{"type": "text", "text": "plan"},
                                            {"type": "text", "text": f"<files>\n{text}\n</files>"}],
                                 **user("plan it")},
            "view_result": {"messages": [
                {"role": "assistant", "content": [tool]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1",
                                              "content": numbered}]}]},
            "str_replace_echo": {"messages": [
                {"role": "assistant", "content": [{**tool, "input": {"command": "str_replace", "path": path,
                                                                      "old_str": first, "new_str": first}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1",
                                              "content": f"The file {path} has been edited.\n{numbered}"}]}]},
            "error_message": {"messages": [{"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t1", "is_error": True,
                 "content": f"`old_str` not found in {path}; the nearest line is:\n{first}\n{text}"}]}]},
            "test_output": user(f"Validation failed:\n$ pytest -q\nE   AssertionError: {text}\n"),
            "diff_text": user("".join(f"+{line}\n" for line in text.splitlines())),
            "count_tokens": {"system": [{"type": "text", "text": text}], **user("estimate")},
        }
        for name, body in bodies.items():
            out.setdefault(name, []).append((path, body))
    return out


def recall(files: dict[str, str], planted: list[Planted]) -> dict[str, dict[str, Any]]:
    by_file: dict[str, list[Planted]] = {}
    for p in planted:
        by_file.setdefault(p.path, []).append(p)
    result: dict[str, dict[str, Any]] = {}
    for name, bodies in _path_bodies(files).items():
        guard = PrivacyGuard(PrivacySettings())
        caught, missed = 0, []
        for path, body in bodies:
            sent = guard.seal(body).payload_json()
            for p in by_file.get(path, []):
                if any(piece in sent or json.dumps(piece)[1:-1] in sent for piece in _pieces(p.value)):
                    missed.append(p.shape)
                else:
                    caught += 1
        total = caught + len(missed)
        result[name] = {"caught": caught, "planted": total, "recall": caught / total, "missed": missed}
    return result


def real_code(max_files: int) -> list[Path]:
    roots = {Path(sysconfig.get_paths()["stdlib"]), Path(sysconfig.get_paths()["purelib"])}
    files: list[Path] = []
    for root in sorted(roots):
        files += sorted(p for p in root.rglob("*.py") if p.is_file())
    # spread over all packages rather than the first ones alphabetically
    step = max(1, len(files) // max_files)
    return files[::step][:max_files]


def false_positives(paths: list[Path]) -> dict[str, Any]:
    lines = 0
    hits: Counter[str] = Counter()
    examples: dict[str, str] = {}
    count = 0
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        count += 1
        lines += text.count("\n") + 1
        guard = PrivacyGuard(PrivacySettings())
        guard.redact(text)
        for secret, placeholder in guard._by_secret.items():
            kind = placeholder.removeprefix("__REDACTED_").rsplit("_", 3)[0]
            key = f"{kind}: {_shape(secret)}"
            hits[key] += 1
            examples.setdefault(key, f"{path.name}: {secret[:40]}")
    total = sum(hits.values())
    return {"files": count, "lines": lines, "redactions": total,
            "per_1000_lines": 1000 * total / max(1, lines),
            "top10": [{"hit": k, "count": n, "example": examples[k]} for k, n in hits.most_common(10)]}


def _shape(value: str) -> str:
    """A short description of a hit's shape (so that the list groups similar hits)."""
    classes = "".join(sorted({"a" if c.islower() else "A" if c.isupper() else "9" if c.isdigit() else "#"
                              for c in value}))
    return f"len {len(value) // 8 * 8}-{len(value) // 8 * 8 + 7}, chars {classes}"


def cost(paths: list[Path], rounds: int = 40) -> dict[str, float]:
    blob: list[str] = []
    size = 0
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        blob.append(text)
        size += len(text)
        if size > 100_000 * rounds:
            break
    joined = "\n".join(blob)
    chunks = [joined[i:i + 100_000] for i in range(0, min(len(joined), 100_000 * rounds), 100_000)]
    wall: list[float] = []
    cpu: list[float] = []
    guard = PrivacyGuard(PrivacySettings())
    for chunk in chunks:
        start, start_cpu = time.perf_counter(), time.process_time()
        guard.redact(chunk)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)

    def p95(values: list[float]) -> float:
        return sorted(values)[min(len(values) - 1, int(len(values) * 0.95))]

    return {"chunks": len(wall), "median_ms": statistics.median(wall), "p95_ms": p95(wall),
            "cpu_median_ms": statistics.median(cpu), "cpu_p95_ms": p95(cpu)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-files", type=int, default=4000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    files, planted = build()
    formats = {Path(p).suffix or Path(p).name for p in files}
    print(f"corpus: {len(planted)} secrets of {len({p.shape for p in planted})} shapes in {len(files)} files "
          f"({len(formats)} formats)")
    rec = recall(files, planted)
    for name, r in rec.items():
        print(f"  recall {name:<18} {r['caught']}/{r['planted']} = {100 * r['recall']:.1f}%"
              + (f"  missed: {', '.join(r['missed'])}" if r["missed"] else ""))
    paths = real_code(args.max_files)
    fp = false_positives(paths)
    print(f"false positives: {fp['redactions']} redactions in {fp['files']} files, {fp['lines']:,} lines = "
          f"{fp['per_1000_lines']:.3f} per 1,000 lines "
          f"(one per {fp['lines'] / max(1, fp['redactions']):,.0f} lines)")
    for row in fp["top10"]:
        print(f"  {row['count']:4}  {row['hit']}   e.g. {row['example']}")
    c = cost(paths)
    print(f"guard cost per 100 KB ({c['chunks']} chunks of real code): "
          f"CPU {c['cpu_median_ms']:.1f} ms median, "
          f"{c['cpu_p95_ms']:.1f} ms p95; wall {c['median_ms']:.1f} ms median, {c['p95_ms']:.1f} ms p95")
    if args.json:
        args.json.write_text(json.dumps({"recall": rec, "false_positives": fp, "cost": c}, indent=2))


if __name__ == "__main__":
    main()
