"""HTTP plumbing shared by the model-server clients (llama-server's native API, the OpenAI API).

One :class:`Endpoint` holds how to reach one server: its URL, the Bearer key (``server.api_key``,
never logged or shown) and the private CA (``server.ca_bundle``). This module also maps httpx's
errors and error answers into :mod:`codeassist.errors`, parses server-sent events and provides
:class:`TextStream`, the streamed-generation object both clients hand out:

- connection refused / dropped / TLS  -> ``ServerUnavailableError`` (TLS: names ``server.ca_bundle``)
- 401 / 403                           -> ``ServerAuthError`` (names ``server.api_key``)
- 503 (model still loading)           -> ``ServerUnavailableError``
- timeout                             -> ``ServerTimeoutError``
- any other HTTP error answer         -> ``ServerRequestError`` (status, body)
"""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import httpx

from codeassist.errors import (
    ConfigError,
    ServerAuthError,
    ServerRequestError,
    ServerTimeoutError,
    ServerUnavailableError,
)
from codeassist.runtime.params import Completion

__all__ = ["CONNECT_TIMEOUT", "Endpoint", "HealthState", "TextStream", "error_message",
           "health_from_status", "map_transport_error", "raise_for_status", "sse_payloads"]

log = logging.getLogger(__name__)

HealthState = Literal["ok", "loading", "unreachable", "error"]
CONNECT_TIMEOUT = 5.0


@dataclass(frozen=True)
class Endpoint:
    """How to reach one model server. The key is left out of ``repr`` (so out of every log)."""

    url: str
    api_key: str = field(default="", repr=False)
    ca_bundle: str = ""
    timeout: float = 60.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", self.url.rstrip("/"))

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def http_timeout(self, seconds: float | None = None) -> httpx.Timeout:
        return httpx.Timeout(self.timeout if seconds is None else seconds, connect=CONNECT_TIMEOUT)

    @cached_property
    def verify(self) -> ssl.SSLContext | bool:
        """The TLS trust for HTTPS: the system's CAs, or only ``server.ca_bundle`` when set."""
        if not self.ca_bundle:
            return True
        path = Path(self.ca_bundle).expanduser()
        try:
            return ssl.create_default_context(cafile=str(path))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"`server.ca_bundle` is {self.ca_bundle!r}, which is not a readable PEM file of CA "
                f"certificates ({exc}).",
                hint="Point it at the PEM file of the CA that signed the server's certificate.",
                key="server.ca_bundle") from exc

    def new_http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=self.http_timeout(), verify=self.verify)


def error_message(body: str) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip()[:500]
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        return str(data["error"].get("message", body))[:500]
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return str(data["error"])[:500]
    if isinstance(data, dict) and isinstance(data.get("detail"), str):  # FastAPI-style servers
        return str(data["detail"])[:500]
    return body.strip()[:500]


def raise_for_status(response: httpx.Response, body: str, path: str, endpoint: Endpoint,
                     *, server: str = "llama-server") -> None:
    """Raise the matching :mod:`codeassist.errors` error for an HTTP error answer."""
    status = response.status_code
    if status < 400:
        return
    message = error_message(body)
    if status in (401, 403):
        if endpoint.api_key:
            hint = ("The key in `server.api_key` (or CODEASSIST_SERVER_API_KEY) was refused: set it to "
                    "one of the keys the server was started with.")
        else:
            hint = ("This server needs an API key: set `server.api_key` (or the environment variable "
                    "CODEASSIST_SERVER_API_KEY) to the key it was started with.")
        raise ServerAuthError(
            f"The model server at {endpoint.url} refused {path} (HTTP {status}: {message}).",
            status=status, body=body, hint=hint)
    if status == 503:
        raise ServerUnavailableError(
            f"{server} at {endpoint.url} is not ready yet ({message}).",
            hint="Wait until the model has loaded; `codeassist server status` shows its state.",
        )
    raise ServerRequestError(
        f"{server} at {endpoint.url} answered {path} with HTTP {status}: {message}",
        status=status, body=body,
        hint="Check the request options; `codeassist server logs` shows the server's side.",
    )


def map_transport_error(exc: httpx.TransportError, endpoint: Endpoint, path: str,
                        *, server: str = "llama-server") -> Exception:
    if isinstance(exc, httpx.ConnectTimeout):  # nobody there: like a refused connection
        return ServerUnavailableError(
            f"{server} at {endpoint.url} did not accept a connection within {CONNECT_TIMEOUT:.0f} s.",
            hint="Check that the machine is up and `server.url` is right.")
    if isinstance(exc, httpx.TimeoutException):
        return ServerTimeoutError(
            f"{server} at {endpoint.url} did not answer {path} in time ({type(exc).__name__}).",
            hint="The model may be too slow for this machine: use a smaller model or quantisation, "
                 "or raise the timeout.",
        )
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text.lower():
        hint = ("Set `server.ca_bundle` to the PEM file of the CA that signed its certificate."
                if not endpoint.ca_bundle else
                f"The certificate is not signed by the CA in `server.ca_bundle` ({endpoint.ca_bundle}).")
        return ServerUnavailableError(
            f"The TLS certificate of {endpoint.url} is not trusted ({text}).", hint=hint)
    return ServerUnavailableError(
        f"Cannot reach {server} at {endpoint.url} ({type(exc).__name__}: {exc}).",
        hint="Start it with `codeassist server start`, or check `server.url` in your config.",
    )


def health_from_status(status: int) -> HealthState:
    if status == 200:
        return "ok"
    if status == 503:
        return "loading"
    return "error"


async def sse_payloads(lines: AsyncIterator[str]) -> AsyncGenerator[dict[str, Any] | None, None]:
    """JSON payloads of ``data:`` lines; ``None`` for ``[DONE]``. Comments/pings are skipped."""
    async for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            yield None
            return
        try:
            payload = json.loads(data)
        except ValueError:
            log.warning("the model server sent a malformed stream event: %.200s", data)
            continue
        if isinstance(payload, dict):
            yield payload


class TextStream(AbstractAsyncContextManager["TextStream"]):
    """Text pieces of a streamed generation; an async iterator and an async context manager.

    After the stream ended, :attr:`result` holds the whole :class:`Completion` (with timings).
    Closing it early (``aclose()``, ``break`` inside ``async with``, cancelling the consuming task)
    closes the HTTP connection, and the server stops generating.
    """

    def __init__(self, pieces: AsyncGenerator[str, None], on_done: list[Completion]) -> None:
        self._pieces = pieces
        self._done = on_done

    @property
    def result(self) -> Completion | None:
        return self._done[0] if self._done else None

    def __aiter__(self) -> TextStream:
        return self

    async def __anext__(self) -> str:
        return await self._pieces.__anext__()

    async def aclose(self) -> None:
        await self._pieces.aclose()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None,
    ) -> None:
        await self.aclose()


async def send_retrying(http: httpx.AsyncClient, request: httpx.Request, *, stream: bool) -> httpx.Response:
    """Send ``request``, once more if the server had closed the kept-alive connection.

    A server may close an idle connection just as it is reused; the request then fails with
    "disconnected without sending a response" before the server has seen it, so it is safe to
    send it again, on a fresh connection.
    """
    try:
        return await http.send(request, stream=stream)
    except httpx.RemoteProtocolError:
        log.debug("the server closed a kept-alive connection; sending %s again", request.url.path)
        return await http.send(request, stream=stream)
