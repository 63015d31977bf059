"""Prompt building for both paths.

- FIM models go to ``/infill``: context chunks as ``input_extra``, the window above the cursor
  line as ``input_prefix``, the rest of the line and the lines below as ``input_suffix``, and the
  cursor line up to the cursor as ``prompt`` (after the FIM middle token). While the user types
  on one line only that last part changes, so the server's prompt cache covers the rest.
- Models without FIM tokens (Gemma) get a prompt-built completion on ``/completion``; the
  layouts below were measured with ``benchmarks/complete_bench.py --variants`` (docs/completion.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from codeassist.completion.types import ContextChunk
from codeassist.completion.windows import CursorWindow

Variant = Literal["headers", "bare", "headers_suffix", "chat_hole", "hybrid"]
VARIANTS: tuple[Variant, ...] = ("headers", "bare", "headers_suffix", "chat_hole", "hybrid")
CHAT_VARIANTS: tuple[Variant, ...] = ("chat_hole", "hybrid")  # chat_prompt.py: need a chat template
# the layouts whose prompt holds code after the cursor (the others spend no tokens on it)
SUFFIX_VARIANTS: tuple[Variant, ...] = ("headers_suffix", *CHAT_VARIANTS)
DEFAULT_VARIANT: Variant = "headers"  # base models (no chat template)
# instruct models: the code after the cursor as a block before the prefix measured best with
# an instruct model forced off FIM (docs/completion.md, "FIM-less layouts for instruct models")
INSTRUCT_VARIANT: Variant = "headers_suffix"

_HASH_COMMENT = frozenset({"python", "ruby", "bash", "shell", "sh", "perl", "r", "toml", "yaml",
                           "makefile", "dockerfile", "elixir", "julia", "nim", "powershell"})
_DASH_COMMENT = frozenset({"sql", "lua", "haskell", "ada", "elm"})


def comment_prefix(language: str) -> str:
    lang = language.lower()
    if lang in _HASH_COMMENT:
        return "#"
    if lang in _DASH_COMMENT:
        return "--"
    return "//"


@dataclass(frozen=True)
class InfillPrompt:
    prefix: str
    suffix: str
    prompt: str
    extra: tuple[dict[str, str], ...]


def infill_prompt(window: CursorWindow, chunks: Sequence[ContextChunk]) -> InfillPrompt:
    extra = tuple({"filename": c.path, "text": c.text + "\n"} for c in chunks)
    return InfillPrompt(prefix=window.before, suffix=window.suffix, prompt=window.line_prefix,
                        extra=extra)


def shows_suffix_to_end(layout: Variant | None, window: CursorWindow) -> bool:
    """Whether the model saw the code after the hole, so that where its answer ends is read
    against that code (``postprocess.stop_at_suffix_scope``): FIM (``layout`` None) and the chat
    layouts always; ``headers_suffix`` shows the lines below the cursor line but not the rest of
    that line, so only when that rest is blank (mid-line the prefix-only rules stay)."""
    if layout is None or layout in CHAT_VARIANTS:
        return True
    return layout == "headers_suffix" and not window.line_suffix.strip()


def pick_layout(configured: Variant | None, has_template: bool) -> Variant:
    """The ``/completion`` prompt's layout: the configured one, or the measured default of the
    model's kind; a chat layout needs the model's chat template."""
    layout = configured or (INSTRUCT_VARIANT if has_template else DEFAULT_VARIANT)
    if layout in CHAT_VARIANTS and not has_template:
        return DEFAULT_VARIANT  # no chat template to put the turn in: a prefix continuation
    return layout


def completion_prompt(window: CursorWindow, chunks: Sequence[ContextChunk], path: str, language: str,
                      variant: Variant = DEFAULT_VARIANT) -> str:
    """The ``/completion`` prompt: the stable part (context) first, the cursor window last."""
    mark = comment_prefix(language)
    parts: list[str] = []
    for chunk in chunks:
        if variant == "bare":
            parts.append(chunk.text.rstrip("\n") + "\n\n")
        else:
            parts.append(f"{mark} {chunk.path}\n{chunk.text.rstrip(chr(10))}\n\n")
    if variant == "headers_suffix" and window.after.strip():
        below = window.after.lstrip("\n")
        parts.append(f"{mark} {path} (the code after the cursor)\n{below.rstrip(chr(10))}\n\n")
    if variant != "bare":
        parts.append(f"{mark} {path}\n")
    parts.append(window.prefix)
    return "".join(parts)
