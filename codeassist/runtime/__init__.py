"""The local model runtime: llama-server provisioning, process management, models and HTTP client.

Public API (see docs/runtime.md)::

    from codeassist.runtime import LocalRuntime, CompletionParams, ChatParams, Sampling
    runtime = LocalRuntime(settings)
    client = await runtime.client()
    completion = await client.complete(prompt, CompletionParams(n_predict=64, id_slot=COMPLETION_SLOT))

``gguf`` (llama-cpp-python) is imported only when used: ``from codeassist.runtime import gguf``; the
other parts with an API of their own are imported as modules the same way: ``catalogue`` (the model
catalogue), ``hub`` (model downloads), ``provision`` (the llama-server binary), ``doctor``.
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
    probe_health,
)
from codeassist.runtime.runtime import CHAT_SLOT, COMPLETION_SLOT, LocalRuntime
from codeassist.runtime.server import ManagedServer, ServerStatus

__all__ = [
    "CHAT_SLOT",
    "COMPLETION_SLOT",
    "ChatParams",
    "Completion",
    "CompletionParams",
    "LlamaClient",
    "LocalRuntime",
    "ManagedServer",
    "Sampling",
    "ServerStatus",
    "TextStream",
    "Timings",
    "probe_health",
]
