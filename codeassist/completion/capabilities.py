"""What the model behind the server can do, learned once: FIM tokens, chat template, tokenizer.

``/props`` gives the model's path; with the file on this machine its GGUF metadata says whether it
has FIM tokens and which chat template it carries, and its vocabulary gives exact token counts.
Without the file, ``/infill`` is tried and its HTTP 501 answer (no FIM tokens) switches the engine
to prompt-built completions (the engine sets :attr:`Capabilities.mode` then).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Literal

from codeassist.completion.tokens import TokenCounter
from codeassist.errors import ModelError
from codeassist.runtime.backend import ModelBackend

log = logging.getLogger(__name__)

Mode = Literal["infill", "completion"]


class Capabilities:
    """One probe at a time, shared by every caller and shielded from their cancellation: a
    superseded completion request does not abandon the probe half-way (the next request would
    start it again, and load the tokenizer a second time). A failed probe is retried by the next
    caller."""

    def __init__(self, forced_mode: str = "auto", *, read_model_file: bool = True,
                 want_tokenizer: bool = True) -> None:
        self.mode: Mode | None = None  # None: not known yet, /infill is tried first
        self.chat_template = False
        # the model's own chat template, from its GGUF (chat layouts render it; /props would show
        # a generic fallback for a model without one)
        self.template: str | None = None
        self.model_path = ""
        self.tokenizer: TokenCounter | None = None  # the model's own, once loaded
        self.probed = False
        self._forced = forced_mode
        self._read_model = read_model_file
        self._want_tokenizer = want_tokenizer
        self._probing: asyncio.Task[None] | None = None

    @property
    def probing(self) -> asyncio.Task[None] | None:
        """The probe in flight (or the last one); None before the first."""
        return self._probing

    async def ensure(self, client: ModelBackend) -> None:
        if self.probed:
            return
        if self._probing is None or self._probing.done():
            self._probing = asyncio.ensure_future(self._probe_once(client))
            self._probing.add_done_callback(_retrieve_exception)
        await asyncio.shield(self._probing)

    async def _probe_once(self, client: ModelBackend) -> None:
        props = await client.props()
        self.chat_template = bool(props.get("chat_template"))
        self.model_path = str(props.get("model_path") or "")
        await self._read_model_file()
        if self._forced != "auto":  # forced, e.g. an instruct model on the FIM-less path
            self.mode = "infill" if self._forced == "infill" else "completion"
        self.probed = True

    async def _read_model_file(self) -> None:
        """With the model file on this machine: FIM capability and exact token counts."""
        if not self._read_model or not self.model_path or not Path(self.model_path).is_file():
            return
        from codeassist.runtime import gguf

        try:
            info = await asyncio.to_thread(gguf.read_info, self.model_path)
            tokenizer = await asyncio.to_thread(gguf.Tokenizer, self.model_path) \
                if self._want_tokenizer else None
        except ModelError as exc:
            log.info("cannot read %s (%s); probing /infill instead", self.model_path, exc.message)
            return
        except ImportError as exc:  # llama-cpp-python missing: estimates and probing still work
            log.warning("llama-cpp-python is not importable (%s); probing /infill instead", exc)
            return
        self.mode = "infill" if info.has_fim else "completion"
        self.chat_template = info.chat_template is not None  # /props shows a generic fallback one
        self.template = info.chat_template
        self.tokenizer = tokenizer


def _retrieve_exception(task: asyncio.Task[None]) -> None:
    """A probe whose callers all went away may fail unobserved: mark its error as seen."""
    if not task.cancelled():
        task.exception()
