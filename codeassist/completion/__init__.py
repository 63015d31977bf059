"""Inline completions and snippets from the local model (UI-free; the LSP and the TUI call it).

See docs/completion.md for how the prompt is built and post-processed.
"""

from codeassist.completion.engine import CompletionEngine
from codeassist.completion.postprocess import replaced_suffix
from codeassist.completion.request import PreparedRequest
from codeassist.completion.types import CompletionRequest, CompletionResult, CompletionTimings, ContextChunk

__all__ = [
    "CompletionEngine",
    "CompletionRequest",
    "CompletionResult",
    "CompletionTimings",
    "ContextChunk",
    "PreparedRequest",
    "replaced_suffix",
]
