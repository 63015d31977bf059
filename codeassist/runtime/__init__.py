"""The local model runtime: llama-server provisioning, process management, models and HTTP client.

Public API (see docs/runtime.md)::

    from codeassist.runtime import LocalRuntime, CompletionParams, ChatParams, Sampling
    runtime = LocalRuntime(settings)
    client = await runtime.client()
    completion = await client.complete(prompt, CompletionParams(n_predict=64, id_slot=COMPLETION_SLOT))

``gguf`` (llama-cpp-python) is imported only when used: ``from codeassist.runtime import gguf``.
"""

from __future__ import annotations

from codeassist.runtime.llama_client import (
    ChatParams,
    Completion,
    CompletionParams,
    LlamaClient,
    Sampling,
    TextStream,
    Timings,
)
from codeassist.runtime.runtime import CHAT_SLOT, COMPLETION_SLOT, LocalRuntime

__all__ = [
    "CHAT_SLOT",
    "COMPLETION_SLOT",
    "ChatParams",
    "Completion",
    "CompletionParams",
    "LlamaClient",
    "LocalRuntime",
    "Sampling",
    "TextStream",
    "Timings",
]
