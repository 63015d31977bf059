"""``LocalRuntime``: the one object the rest of codeassist uses to reach the model.

It attaches to ``server.url`` when servers are configured (one server elsewhere, e.g. a team GPU
box, or a pool of several; llama-server's native API or any OpenAI-compatible one, see
:mod:`codeassist.runtime.connect`); otherwise it makes sure the managed llama-server runs —
starting it on first use and again whenever its process died — and hands out a client for it.
Either way :meth:`LocalRuntime.client` returns a :class:`~codeassist.runtime.backend.ModelBackend`.

Completions and chat use different server slots (:data:`COMPLETION_SLOT`, :data:`CHAT_SLOT`), so a
chat never evicts the prompt cache of the completions.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import httpx

from codeassist.config import Settings
from codeassist.errors import ModelError
from codeassist.runtime import catalogue, gguf, templates
from codeassist.runtime.backend import ModelBackend
from codeassist.runtime.connect import connect
from codeassist.runtime.llama_client import LlamaClient
from codeassist.runtime.pool import EndpointPool, EndpointState
from codeassist.runtime.server import ManagedServer

__all__ = ["CHAT_SLOT", "COMPLETION_SLOT", "LocalRuntime"]

log = logging.getLogger(__name__)

COMPLETION_SLOT = 0
CHAT_SLOT = 1


class LocalRuntime:
    """Access to the model server(s); create one per process and ``await aclose()`` at the end.

    ``http`` lets callers share an ``httpx.AsyncClient``; ``state_dir`` places the managed server's
    pid/port/log files somewhere else than the XDG state directory.
    """

    def __init__(self, settings: Settings, *, http: httpx.AsyncClient | None = None,
                 state_dir: Path | None = None, timeout: float = 60.0) -> None:
        self.settings = settings
        self._http = http
        self._timeout = timeout
        self._server = None if settings.server.url else ManagedServer(settings, state_dir=state_dir)
        self._client: ModelBackend | None = None
        self._lock = asyncio.Lock()
        self._tokenizer: gguf.Tokenizer | None = None
        self._chat_problem: list[str | None] = []

    @property
    def server(self) -> ManagedServer | None:
        """The managed server, or None when attached to ``server.url``."""
        return self._server

    @property
    def attached(self) -> bool:
        return self._server is None

    async def client(self) -> ModelBackend:
        """A client for a running server, starting (or restarting) the managed one if needed."""
        if self._client is not None and (self._server is None or self._server.is_alive()):
            return self._client
        async with self._lock:
            if self._server is None:
                if self._client is None:
                    self._client = await connect(self.settings, http=self._http, timeout=self._timeout)
                return self._client
            if self._client is None or not self._server.is_alive():
                if self._client is not None:
                    log.warning("the managed llama-server died; starting it again")
                status = await asyncio.to_thread(self._server.start)
                if self._client is None or self._client.base_url != status.url.rstrip("/"):
                    if self._client is not None:
                        await self._client.aclose()
                    self._client = LlamaClient(status.url, self._http, timeout=self._timeout,
                                               api_key=self._server.api_key())
            return self._client

    def endpoints(self) -> list[EndpointState]:
        """Each configured server's state and latency (a pool's last checks; empty otherwise)."""
        return self._client.status() if isinstance(self._client, EndpointPool) else []

    async def aclose(self) -> None:
        """Close the HTTP client. The managed server keeps running for the next command."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # --- the model, in-process -----------------------------------------------------------
    def model_path(self) -> Path | None:
        """The local GGUF in use; None when attached to a server whose model is not known here."""
        if self.attached and not self.settings.model.path:
            return None
        return catalogue.resolve_model_path(self.settings)

    def model_info(self) -> gguf.GGUFInfo | None:
        path = self.model_path()
        return gguf.read_info(path) if path is not None else None

    def tokenizer(self) -> gguf.Tokenizer | None:
        """The model's own tokenizer (vocabulary only), or None when the model is remote."""
        if self._tokenizer is None:
            path = self.model_path()
            if path is None:
                return None
            self._tokenizer = gguf.Tokenizer(path)
        return self._tokenizer

    async def count_tokens(self, text: str) -> int:
        """Token count: exact in-process when the model file is here, else the server's count
        (llama-server's ``/tokenize``) or its measured estimate (OpenAI-compatible servers)."""
        try:
            tok = self.tokenizer()
        except ModelError:
            tok = None
        if tok is not None:
            return tok.count(text)
        client = await self.client()
        return await client.count_tokens(text)

    def chat_problem(self) -> str | None:
        """Why the local model cannot chat, in one line, or None when it can (or is not known here).

        A model chats with its GGUF's own template or, without one, with llama.cpp's built-in
        template of its family; a model with neither cannot hold a conversation.
        """
        if not self._chat_problem:
            try:
                info = self.model_info()
            except ModelError:
                info = None
            problem = None
            builtin = templates.builtin_template(info.architecture) if info is not None else None
            if info is not None and not info.chat_template and not builtin:
                problem = (f"The local model {info.name} cannot chat: its GGUF has no chat template and "
                           f"llama.cpp has none built in for its family ({info.architecture}).")
            self._chat_problem.append(problem)
        return self._chat_problem[0]

    def notice(self) -> str | None:
        """The offline-model sentence to show once, or None (see :func:`catalogue.offline_model_notice`)."""
        return catalogue.offline_model_notice(self.settings)
