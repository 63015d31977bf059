"""The one factory from :class:`~codeassist.config.Settings` to a model backend.

``server.url`` lists the servers (none: the managed llama-server, handled by
:class:`~codeassist.runtime.runtime.LocalRuntime`); ``server.api`` picks the API (``auto`` probes
each server once, through the registered backends' probes, and remembers the answer);
``server.api_key`` / ``server.ca_bundle`` go into every :class:`Endpoint`. One URL gives that
server's backend; several give an :class:`~codeassist.runtime.pool.EndpointPool`.
"""

from __future__ import annotations

import logging

import httpx

from codeassist.config import Settings
from codeassist.errors import ServerRequestError
from codeassist.runtime.backend import BackendOptions, ModelBackend, backend_spec, registered_backends
from codeassist.runtime.pool import EndpointPool
from codeassist.runtime.transport import Endpoint, map_transport_error, raise_for_status

__all__ = ["backend_options", "check_messages_api", "connect", "endpoints", "resolve_backend"]

log = logging.getLogger(__name__)


def endpoints(settings: Settings, *, timeout: float = 60.0) -> list[Endpoint]:
    srv = settings.server
    return [Endpoint(url, api_key=srv.api_key, ca_bundle=srv.ca_bundle, timeout=timeout) for url in srv.url]


def backend_options(settings: Settings) -> BackendOptions:
    """The model file is known here only when ``model.path`` names it (a remote server's model)."""
    return BackendOptions(model_path=settings.model.path, model=settings.server.model)


async def resolve_backend(endpoint: Endpoint, api: str, options: BackendOptions,
                          http: httpx.AsyncClient | None = None) -> ModelBackend:
    """The backend for one server: the one ``api`` names, or the first whose probe says yes."""
    if api != "auto":
        spec = backend_spec(api)
        return spec.create(endpoint, http, options)
    probing = http or endpoint.new_http()
    try:
        for spec in registered_backends():
            if await spec.probe(probing, endpoint):
                log.info("%s speaks the %s API", endpoint.url, spec.name)
                return spec.create(endpoint, http, options)
    finally:
        if http is None:
            await probing.aclose()
    names = ", ".join(s.name for s in registered_backends())
    raise ServerRequestError(
        f"The server at {endpoint.url} speaks none of the APIs codeassist knows ({names}).", status=404,
        hint="Check `server.url` (for an OpenAI-compatible server: the address without /v1 or with it), "
             "or set `server.api`.")


async def connect(settings: Settings, *, http: httpx.AsyncClient | None = None,
                  timeout: float = 60.0) -> ModelBackend:
    """The backend for ``server.url``: one server's client, or a pool of several."""
    eps = endpoints(settings, timeout=timeout)
    if not eps:
        raise ValueError("connect() needs server.url; the managed server is LocalRuntime's")
    options = backend_options(settings)
    api = settings.server.api
    if api != "auto":
        backend_spec(api)  # a bad name is a configuration error before any request
    if len(eps) == 1:
        return await resolve_backend(eps[0], api, options, http)

    async def resolve(endpoint: Endpoint) -> ModelBackend:
        return await resolve_backend(endpoint, api, options, http)

    return EndpointPool(eps, resolve)


def check_messages_api(settings: Settings) -> str:
    """The first server's URL if it has the Anthropic Messages API (``/v1/messages``, which
    llama-server has and ``refactor --local`` needs); a clear error where it has not."""
    endpoint = endpoints(settings, timeout=30.0)[0]
    body = {"model": settings.server.model or "local", "messages": [{"role": "user", "content": "hi"}]}
    try:
        response = httpx.post(endpoint.url + "/v1/messages/count_tokens", json=body,
                              headers=endpoint.headers, verify=endpoint.verify, timeout=30.0)
    except httpx.TransportError as exc:
        raise map_transport_error(exc, endpoint, "/v1/messages/count_tokens") from exc
    if response.status_code in (404, 405):
        raise ServerRequestError(
            f"The server at {endpoint.url} has no Anthropic Messages API (/v1/messages answered "
            f"{response.status_code}), which local refactors need.", status=response.status_code,
            hint="llama-server has it (point server.url at one, or let codeassist manage one); vLLM, "
                 "SGLang and other OpenAI-only servers do not. Or refactor with Claude: leave out --local.")
    raise_for_status(response, response.text, "/v1/messages/count_tokens", endpoint)
    return endpoint.url
