"""Regenerate the screenshots in docs/ (not a test): the chat, the help screen, the refactor review.

    .venv/bin/python -m tests.tui.screenshots --url LLAMA_SERVER_URL [--model qwen2.5-coder-0.5b]

Runs the app headless against a running llama-server with the offline default model (or the model
``--model`` names) and the loopback Anthropic server, saves SVGs with Textual's ``save_screenshot``
and converts them to PNG with headless Chromium when it is installed (else the SVGs are kept).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from codeassist.runtime import catalogue
from codeassist.tui.app import ChatApp
from codeassist.tui.screens import DiffReviewScreen, PlanScreen
from tests.chat.helpers import make_repo, make_session, settings_for, stub_overrides
from tests.support.anthropic_stub import TEST_API_KEY, AnthropicStub
from tests.support.llama import LlamaServerInfo
from tests.tui.pilot import answer_finished, submit, wait_until
from tests.tui.test_refactor_flow import INSTRUCTION, script

DOCS = Path(__file__).resolve().parents[2] / "docs"
SIZE = (120, 38)


async def shoot(server: LlamaServerInfo, stub: AnthropicStub, out: Path) -> list[Path]:
    repo = make_repo(out / "shop")
    settings = settings_for(repo, server, **stub_overrides(stub),
                            **{"chat.max_tokens": 320, "chat.temperature": 0.0})
    notice = catalogue.offline_model_notice(settings_for(repo, server, **{"server.url": ""}))
    app = ChatApp(make_session(repo, settings, claude=True), notice=notice)
    shots: list[Path] = []
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.status.server == "ready", timeout=900)
        await submit(pilot, "/local")
        await submit(pilot, "How do I reverse a list in Python?")
        await answer_finished(pilot, timeout=900)
        await pilot.pause(0.3)
        shots.append(Path(app.save_screenshot("chat.svg", str(out))))
        await pilot.press("f1")
        await pilot.pause(0.3)
        shots.append(Path(app.save_screenshot("chat-help.svg", str(out))))
        await pilot.press("escape")
        script(stub)
        await submit(pilot, INSTRUCTION)
        await wait_until(pilot, lambda: isinstance(app.screen, PlanScreen))
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, DiffReviewScreen))
        await pilot.pause(0.3)
        shots.append(Path(app.save_screenshot("chat-review.svg", str(out))))
        await pilot.press("r")
        await pilot.pause(0.5)
    return shots


def to_png(svg: Path) -> Path | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        return None
    png = DOCS / svg.with_suffix(".png").name
    width, height = 1480, 1000
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--screenshot={png}", f"--window-size={width},{height}", svg.as_uri()],
                   check=True, capture_output=True, timeout=120)
    return png


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="a running llama-server with --model")
    parser.add_argument("--model", default=catalogue.DEFAULT_MODEL, help="the catalogue name it serves")
    args = parser.parse_args()
    os.environ["ANTHROPIC_API_KEY"] = TEST_API_KEY  # this process only: the loopback server's key
    with tempfile.TemporaryDirectory() as tmp, AnthropicStub() as stub:
        for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
            os.environ[name] = str(Path(tmp) / name.lower())
        server = LlamaServerInfo(url=args.url, port=0, binary=Path(), model=Path(), name=args.model)
        for svg in asyncio.run(shoot(server, stub, Path(tmp))):
            png = to_png(svg)
            if png is None:
                shutil.copy(svg, DOCS / svg.name)
            print(png or DOCS / svg.name)


if __name__ == "__main__":
    main()
