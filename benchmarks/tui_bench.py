"""Latency of the chat TUI: first streamed token on screen, and input echo while an answer streams.

    .venv/bin/python benchmarks/tui_bench.py [--url URL] [--answers 8] [--keys 40]

Without ``--url`` a llama-server with the embedded tiny model is started for the run (and stopped
afterwards). The app runs headless (Textual's test driver): "on screen" means the compositor has
rendered the frame holding the text, i.e. the first refresh after the widget was updated.

1. First token: for each answer, the moment the first streamed piece arrived from llama-server
   (parsed from its SSE stream) and the moment it was painted. Target: painted <= 50 ms later.
2. Input echo: while a long answer streams, key presses are fed through the driver the way a
   terminal delivers them; the time until the typed character was rendered. Target: < 50 ms.
   The same is measured with no answer streaming, for comparison.

The UI thread's CPU time between a first token's arrival and its paint is printed too: on a
machine shared with other work, wall-clock latencies grow with the load, the CPU time does not.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from textual import events
from textual.widgets import Input

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from codeassist.chat.session import ChatSession
from codeassist.config import load_settings
from codeassist.runtime import LocalRuntime
from codeassist.tui.app import ChatApp
from codeassist.tui.widgets import ChatInput

QUESTION = "Explain what a hash map is and show a short example."


class ProbedApp(ChatApp):
    """The chat app plus a probe: when a key sent at ``key_sent_at`` shows up in the prompt."""

    key_sent_at: float | None = None
    echoes_ms: list[float]

    def on_input_changed(self, event: Input.Changed) -> None:
        sent = self.key_sent_at
        if sent is None:
            return
        self.key_sent_at = None
        self.call_after_refresh(lambda: self.echoes_ms.append((time.perf_counter() - sent) * 1000))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(name: str, values: list[float]) -> str:
    if not values:
        return f"{name}: no samples"
    return (f"{name}: n={len(values)} median={statistics.median(values):.1f} ms "
            f"p95={pct(values, 0.95):.1f} ms max={max(values):.1f} ms")


async def wait(condition: object, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("the benchmark waited too long")
        await asyncio.sleep(0.005)


async def send_key(app: ProbedApp, char: str) -> None:
    assert app._driver is not None
    before = len(app.echoes_ms)
    app.key_sent_at = time.perf_counter()
    app._driver.send_message(events.Key(char, char))
    await wait(lambda: len(app.echoes_ms) > before, 10)


async def run(settings_overrides: dict[str, object], answers: int, keys: int, repo: Path) -> None:
    settings = load_settings(repo, overrides={**settings_overrides, "chat.history": False})
    runtime = LocalRuntime(settings, state_dir=repo / ".bench-state")
    session = ChatSession(settings, runtime, None, None, root=repo)
    app = ProbedApp(session)
    app.echoes_ms = []
    server_ttft: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await wait(lambda: app.status.server == "ready", 300)
        prompt = app.query_one(ChatInput)
        for _ in range(answers):  # 1. first token
            session.settings = load_settings(repo, overrides={**settings_overrides, "chat.history": False,
                                                               "chat.max_tokens": 32})
            prompt.value = QUESTION
            seen = len(app.metrics.first_tokens)
            started = time.perf_counter()
            await pilot.press("enter")
            await wait(lambda: app.answer_worker is not None and app.answer_worker.is_finished)
            if len(app.metrics.first_tokens) > seen:  # else the model ended before any text
                server_ttft.append((app.metrics.first_tokens[-1].server_at - started) * 1000)
            session.clear()
        idle_echo: list[float] = []
        for i in range(keys // 2):  # 2a. echo with nothing streaming
            before = len(app.echoes_ms)
            await send_key(app, "abcdefghij"[i % 10])
            idle_echo.append(app.echoes_ms[before])
            await asyncio.sleep(0.02)
        prompt.value = ""
        session.settings = load_settings(repo, overrides={**settings_overrides, "chat.history": False,
                                                           "chat.max_tokens": 2000})
        prompt.value = QUESTION
        seen = len(app.metrics.first_tokens)
        await pilot.press("enter")
        await wait(lambda: len(app.metrics.first_tokens) > seen)
        streaming_echo: list[float] = []
        prompt.focus()
        for i in range(keys):  # 2b. echo while the answer streams
            if app.answer_worker is None or app.answer_worker.is_finished:
                break
            before = len(app.echoes_ms)
            await send_key(app, "klmnopqrst"[i % 10])
            streaming_echo.append(app.echoes_ms[before])
            await asyncio.sleep(0.03)
        streamed_during = app.answer_worker is not None and not app.answer_worker.is_finished
        app.action_cancel()
        await wait(lambda: app.answer_worker is not None and app.answer_worker.is_finished)
    delays = [s.delay_ms for s in app.metrics.first_tokens if s.delay_ms is not None]
    cpu = [s.cpu_ms for s in app.metrics.first_tokens if s.cpu_ms is not None]
    print(summary("server first token (from Enter)", server_ttft))
    print(summary("first token painted after arrival", delays))
    print(summary("  UI-thread CPU time spent in between", cpu))
    print(summary("input echo, idle", idle_echo))
    print(summary("input echo, while streaming", streaming_echo)
          + ("" if streamed_during else "  (the answer ended before all keys were sent)"))
    if runtime.server is not None:
        runtime.server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="", help="a running llama-server (default: start one)")
    parser.add_argument("--answers", type=int, default=8)
    parser.add_argument("--keys", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        overrides: dict[str, object] = {"server.url": args.url} if args.url else {"server.port": _free_port()}
        asyncio.run(run(overrides, args.answers, args.keys, Path(tmp)))


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":
    main()
