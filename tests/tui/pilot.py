"""Helpers for driving the Textual app with Pilot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from textual.pilot import Pilot

from codeassist.tui.app import ChatApp
from codeassist.tui.widgets import ChatInput


async def wait_until(pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 240.0,
                     what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


async def submit(pilot: Pilot[None], text: str) -> None:
    """Type ``text`` into the prompt (as the user would paste it) and press Enter."""
    app = pilot.app
    assert isinstance(app, ChatApp)
    prompt = app.query_one(ChatInput)
    prompt.focus()
    prompt.value = text
    prompt.cursor_position = len(text)
    await pilot.press("enter")
    await pilot.pause()


async def answer_finished(pilot: Pilot[None], timeout: float = 240.0) -> None:
    app = pilot.app
    assert isinstance(app, ChatApp)
    await wait_until(pilot, lambda: app.answer_worker is not None and app.answer_worker.is_finished,
                     timeout, "the answer to finish")
    await asyncio.sleep(0)
    await pilot.pause()
