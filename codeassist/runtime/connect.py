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
from codeassist.runtime.transport import Endpoint

__all__ = ["backend_options", "connect", "endpoints", "resolve_backend"]

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
