"""One completion request as it is sent: prepared for a position, sent, and continued.

:class:`PreparedRequest` is everything the engine sends for one position (the benchmarks replay
it as a raw HTTP request); :func:`ask` sends it to ``/infill`` or ``/completion``;
:meth:`PreparedRequest.continued` is the same request with the model's answer to go on from a
given beginning (:mod:`codeassist.completion.second_choice`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from codeassist.completion.capabilities import Mode
from codeassist.completion.prompt import CHAT_VARIANTS, InfillPrompt, Variant, shows_suffix_to_end
from codeassist.completion.types import ContextChunk
from codeassist.completion.windows import CursorWindow
from codeassist.runtime.backend import ModelBackend
from codeassist.runtime.llama_client import Completion, CompletionParams


@dataclass(frozen=True)
class PreparedRequest:
    """Everything sent for one position (the benchmark replays it as a raw HTTP request)."""

    mode: Mode
    window: CursorWindow
    chunks: tuple[ContextChunk, ...]
    params: CompletionParams
    prompt: str = ""
    infill: InfillPrompt | None = None
    context_ms: float = 0.0
    layout: Variant | None = None  # the /completion prompt's layout

    @property
    def chat(self) -> bool:
        """Whether the prompt is a chat turn (its answer is not the prompt's continuation)."""
        return self.layout in CHAT_VARIANTS

    @property
    def sees_suffix(self) -> bool:
        """Whether the model is shown the text after the cursor."""
        return self.infill is not None or shows_suffix_to_end(self.layout, self.window)

    def body(self) -> dict[str, Any]:
        """The JSON body of the request, as the runtime's client sends it."""
        if self.infill is not None:
            return {"input_prefix": self.infill.prefix, "input_suffix": self.infill.suffix,
                    "input_extra": list(self.infill.extra), "prompt": self.infill.prompt,
                    "stream": False, **self.params.to_json()}
        return {"prompt": self.prompt, "stream": False, **self.params.to_json()}

    def continued(self, head: str) -> PreparedRequest:
        """The same request, the model to go on from ``head`` (the start of its answer): the head
        goes after the prompt, where the answer begins, so the server's prompt cache holds all
        that comes before it."""
        until = self.params.until
        params = replace(self.params, n_probs=0,
                         until=None if until is None else (lambda text: until(head + text)))
        if self.infill is not None:
            return replace(self, params=params, infill=replace(self.infill, prompt=self.infill.prompt + head))
        return replace(self, params=params, prompt=self.prompt + head)


async def ask(client: ModelBackend, prepared: PreparedRequest) -> Completion:
    """Send ``prepared``: ``/infill`` for a FIM prompt, else ``/completion`` (raises
    ``InfillUnsupportedError`` when the model has no FIM tokens)."""
    if prepared.infill is not None:
        p = prepared.infill
        return await client.infill(p.prefix, p.suffix, p.extra, prepared.params, prompt=p.prompt)
    return await client.complete(prepared.prompt, prepared.params)
