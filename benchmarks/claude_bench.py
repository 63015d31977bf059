"""Costs of the Claude gate, measured against the loopback Messages API server.

1. Redaction throughput (MB/s) of the privacy guard on real source code (codeassist's own
   sources and the installed ``anthropic`` package), and its recall on the secrets corpus of
   ``tests/claude/test_privacy.py``.
2. Per-turn latency on 127.0.0.1: the raw SDK stream vs ``ClaudeClient.turn`` without a cost limit
   (privacy + ledger) and with one (plus the ``count_tokens`` pre-flight): medians and p95.

Run: ``.venv/bin/python -m benchmarks.claude_bench [--turns 40]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import anthropic

import codeassist
from codeassist.claude.client import ClaudeClient
from codeassist.claude.datatypes import Prompt
from codeassist.claude.ledger import Ledger
from codeassist.claude.privacy import PrivacyGuard
from codeassist.config import PrivacySettings, load_settings
from tests.claude.test_privacy import SECRETS
from tests.support.anthropic_stub import TEST_API_KEY, AnthropicStub, reply


def _corpus() -> str:
    roots = [Path(codeassist.__file__).parent, Path(anthropic.__file__).parent]
    return "\n".join(p.read_text(encoding="utf-8") for root in roots for p in sorted(root.rglob("*.py")))


def bench_redaction() -> None:
    text = _corpus()
    guard = PrivacyGuard(PrivacySettings())
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        _, found = guard.redact(text)
        runs.append(time.perf_counter() - start)
    mb = len(text.encode()) / 1e6
    print(f"redaction: {mb:.1f} MB of source in {statistics.median(runs):.2f} s (median of 3) "
          f"= {mb / statistics.median(runs):.1f} MB/s; {len(found)} strings redacted in it")
    caught = sum(secret not in guard.redact(line)[0] for _, line, secret in SECRETS)
    print(f"secrets corpus recall: {caught}/{len(SECRETS)}")


def _stats(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"


def _time(turns: int, stub: AnthropicStub, call: Callable[[], object]) -> list[float]:
    samples = []
    for _ in range(turns):
        stub.script(reply.text("A reply of a realistic length, streamed in pieces. " * 8))
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def bench_turns(turns: int) -> None:
    context = "src/app.py:\n  def load(path)\n  class Config\n" * 200
    prompt = Prompt.single("Rename load to read.", system="You refactor code.", context=context)
    with AnthropicStub() as stub, tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(Path(tmp), overrides={"claude.base_url": stub.url,
                                                       "claude.model": "claude-sonnet-4-6"}, env={})
        sdk = anthropic.Anthropic(api_key=TEST_API_KEY, base_url=stub.url, max_retries=0)

        def raw() -> object:
            system = [{"type": "text", "text": "You refactor code."},
                      {"type": "text", "text": context, "cache_control": {"type": "ephemeral"}}]
            with sdk.messages.stream(model="claude-sonnet-4-6", max_tokens=16000, system=system,  # type: ignore[arg-type]
                                     messages=[{"role": "user", "content": "Rename load to read."}]) as s:
                return s.get_final_message()

        free = ClaudeClient(settings, Ledger(Path(tmp) / "a.db"), api_key=TEST_API_KEY, max_cost=float("inf"))
        capped = ClaudeClient(settings, Ledger(Path(tmp) / "b.db"), api_key=TEST_API_KEY, max_cost=1e9)
        for name, call in (("raw SDK stream", raw), ("client.turn, no cost limit", lambda: free.turn(prompt)),
                           ("client.turn + count_tokens pre-flight", lambda: capped.turn(prompt))):
            _time(3, stub, call)  # warm-up
            print(f"{name:40s} {_stats(_time(turns, stub, call))}  ({turns} turns)")
        for client in (free, capped):
            client.close()
        sdk.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=40)
    args = parser.parse_args()
    bench_redaction()
    bench_turns(args.turns)


if __name__ == "__main__":
    main()
