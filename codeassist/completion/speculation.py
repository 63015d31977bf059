"""llama.vscode's speculative request: the next suggestion, as if the shown one were accepted.

:func:`accepted` is the request at the end of the accepted suggestion; :class:`Speculation` runs
one such request in the background (its answer lands in the engine's cache) and cancels it when a
real request needs the completion slot.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import replace
from typing import Any

from codeassist.completion.postprocess import replaced_suffix
from codeassist.completion.types import CompletionRequest
from codeassist.completion.windows import split_lines

log = logging.getLogger(__name__)


def accepted(request: CompletionRequest, item: str) -> CompletionRequest:
    """The document with ``item`` accepted at ``request``'s position (over the closing brackets
    after the cursor that it contains), the cursor at its end."""
    lines = split_lines(request.text)
    line = lines[request.line]
    covered = replaced_suffix(item, line[request.col:])
    lines[request.line] = line[:request.col] + item + line[request.col + covered:]
    inserted = item.split("\n")
    new_line = request.line + len(inserted) - 1
    new_col = (request.col if len(inserted) == 1 else 0) + len(inserted[-1])
    return replace(request, text="\n".join(lines), line=new_line, col=new_col)


class Speculation:
    """At most one speculative request in flight."""

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    def start(self, request: Coroutine[Any, Any, object]) -> None:
        """Run ``request`` in the background instead of the one in flight (its errors are logged)."""
        self.stop()
        self._task = asyncio.ensure_future(self._run(request))

    def stop(self) -> None:
        """Cancel the request in flight (not when called from inside it)."""
        task = self._task
        if task is None or task is asyncio.current_task():
            return
        if not task.done():
            task.cancel()
        self._task = None

    async def idle(self) -> None:
        """Wait until the request in flight (if any) has finished."""
        task = self._task
        if task is not None:
            await asyncio.wait([task])

    @staticmethod
    async def _run(request: Coroutine[Any, Any, object]) -> None:
        try:
            await request
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.debug("speculative completion failed: %s", exc)
