"""The model-server interface every backend implements, and the registry that picks one.

:class:`ModelBackend` is what the completion engine, the chat and the language server call:
llama-server's native API (:mod:`codeassist.runtime.llama_client`), an OpenAI-compatible server
(:mod:`codeassist.runtime.openai_client`: vLLM, SGLang, Ollama, LM Studio, llama-swap, LiteLLM...)
and the endpoint pool (:mod:`codeassist.runtime.pool`) all implement it.

Backends register through one small extension point, :func:`register_backend`; the built-in
ones use it too (:func:`builtin_backends`), and third-party packages add theirs through the
``codeassist.backends`` entry-point group (an entry point naming a callable that calls
:func:`register_backend`). ``server.api`` names one (``llama``, ``openai``...) or ``auto``:
the registered probes are asked in order of their ``priority`` and the first that recognises
the server wins.

Cache affinity: a completion request runs inside :func:`affinity` (the document's path), so a
pool sends every request of one document to the same server, whose prompt cache stays warm.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Protocol, runtime_checkable

import httpx

from codeassist.errors import ConfigError
from codeassist.runtime.params import ChatParams, Completion, CompletionParams
from codeassist.runtime.transport import Endpoint, HealthState, TextStream

__all__ = ["BackendOptions", "BackendSpec", "ModelBackend", "affinity", "affinity_key",
           "backend_spec", "builtin_backends", "register_backend", "registered_backends"]

log = logging.getLogger(__name__)


@runtime_checkable
class ModelBackend(Protocol):
    """One way of talking to a model server (or a pool of them). Methods as in the llama client."""

    @property
    def kind(self) -> str: ...

    @property
    def base_url(self) -> str: ...

    async def aclose(self) -> None: ...

    async def health(self) -> HealthState: ...

    async def props(self) -> dict[str, Any]:
        """``model_path`` (when known on this machine), ``chat_template``, ``model`` (its name)."""
        ...

    async def count_tokens(self, text: str) -> int: ...

    async def complete(self, prompt: str, params: CompletionParams | None = None) -> Completion: ...

    def stream_complete(self, prompt: str, params: CompletionParams | None = None) -> TextStream: ...

    async def infill(self, prefix: str, suffix: str, extra: Sequence[Mapping[str, str]] = (),
                     params: CompletionParams | None = None, *, prompt: str = "") -> Completion:
        """Fill in the middle; ``InfillUnsupportedError`` when the model (or the API) cannot."""
        ...

    def stream_chat(self, messages: Sequence[Mapping[str, Any]], params: ChatParams | None = None
                    ) -> TextStream: ...


@dataclass(frozen=True)
class BackendOptions:
    """What a backend may need beyond its endpoint: the model file when it is on this machine
    (exact token counts, FIM tokens) and the model id to request (OpenAI servers)."""

    model_path: str = ""
    model: str = ""


Factory = Callable[[Endpoint, "httpx.AsyncClient | None", BackendOptions], ModelBackend]
Probe = Callable[[httpx.AsyncClient, Endpoint], Awaitable[bool]]


@dataclass(frozen=True)
class BackendSpec:
    """A registered backend: ``create`` builds a client, ``probe`` says whether a server speaks it
    (it may raise ``ServerAuthError``); lower ``priority`` is probed first under ``api = auto``."""

    name: str
    create: Factory
    probe: Probe
    priority: int = 100
    description: str = ""


_REGISTRY: dict[str, BackendSpec] = {}
_LOADED = False


def register_backend(spec: BackendSpec) -> None:
    """Add (or replace) a backend. The built-in ones register through this function too."""
    _REGISTRY[spec.name] = spec


def builtin_backends() -> None:
    """Register llama-server's native API and the OpenAI-compatible API."""
    from codeassist.runtime import llama_client, openai_client

    register_backend(BackendSpec("llama", llama_client.create, llama_client.probe, priority=10,
                                 description="llama.cpp's llama-server, native API"))
    register_backend(BackendSpec("openai", openai_client.create, openai_client.probe, priority=50,
                                 description="any OpenAI-compatible server (vLLM, SGLang, Ollama...)"))


def _load() -> None:
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    builtin_backends()
    for entry in metadata.entry_points(group="codeassist.backends"):
        try:
            entry.load()()
        except Exception as exc:  # a broken plugin must not take the built-in backends down
            log.warning("cannot load the model backend plugin %s: %s", entry.name, exc)


def registered_backends() -> list[BackendSpec]:
    _load()
    return sorted(_REGISTRY.values(), key=lambda spec: spec.priority)


def backend_spec(name: str) -> BackendSpec:
    _load()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(["auto", *(s.name for s in registered_backends())])
        raise ConfigError(f"`server.api` is {name!r}, which is not a known server API.",
                          hint=f"Use one of: {known}.", key="server.api") from None


# --- cache affinity ----------------------------------------------------------------------------
_AFFINITY: contextvars.ContextVar[str] = contextvars.ContextVar("codeassist_affinity", default="")


@contextlib.contextmanager
def affinity(key: str) -> Iterator[None]:
    """Requests made inside (in this task and the tasks it starts) belong to ``key`` (a document)."""
    token = _AFFINITY.set(key)
    try:
        yield
    finally:
        _AFFINITY.reset(token)


def affinity_key() -> str:
    return _AFFINITY.get()
