"""Checks behind ``codeassist doctor``: binary, backend and GPU, in-process llama.cpp, model, server.

Each check returns a :class:`Check` (ok / warn / fail, a one-line summary, detail lines); nothing
here prints.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Literal

from codeassist.config import Settings
from codeassist.errors import CodeassistError, ModelError, ServerBinaryError
from codeassist.runtime import catalogue, gguf, provision, templates
from codeassist.runtime.pool import EndpointState
from codeassist.runtime.server import ManagedServer

__all__ = ["Check", "check_endpoints", "describe_endpoint", "detect_vram_gb", "run_checks"]

Level = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    name: str
    level: Level
    summary: str
    details: tuple[str, ...] = ()


def detect_vram_gb() -> float | None:
    """Total memory of the first NVIDIA GPU in GB (None without one or without nvidia-smi)."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        proc = subprocess.run(["nvidia-smi", "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
                              capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    first = proc.stdout.strip().splitlines()[:1]
    if proc.returncode != 0 or not first:
        return None
    try:
        return round(float(first[0]) / 1024, 1)
    except ValueError:
        return None


def _fail(name: str, exc: CodeassistError) -> Check:
    return Check(name, "fail", exc.message, (exc.hint,) if exc.hint else ())


def check_binary(settings: Settings) -> tuple[Check, provision.BinaryInfo | None]:
    if settings.server.url:
        using = f"not needed: using the server(s) at {', '.join(settings.server.url)}"
        return Check("llama-server binary", "ok", using), None
    try:
        info = provision.ensure_server_binary(settings)
    except ServerBinaryError as exc:
        return _fail("llama-server binary", exc), None
    details = (f"source: {info.source}", f"version: {info.version}",
               f"devices: {', '.join(info.devices) or 'CPU only'}")
    return Check("llama-server binary", "ok", str(info.path), details), info


def check_backend(settings: Settings, info: provision.BinaryInfo | None) -> Check:
    wanted = provision.resolve_backend(settings)
    vram = detect_vram_gb()
    gpu = f"GPU memory {vram} GB" if vram is not None else "no NVIDIA GPU detected"
    if info is None:
        level: Level = "ok" if settings.server.url else "warn"
        return Check("backend", level, f"configured {settings.server.backend} (→ {wanted}); {gpu}")
    summary = (f"binary backend {info.backend}, GPU offload "
               f"{'possible' if info.gpu_capable else 'not available'}; {gpu}")
    if wanted in provision.GPU_BACKENDS and not info.gpu_capable:
        return Check("backend", "warn", summary,
                     (f"server.backend resolves to {wanted}, but this binary cannot offload to a GPU.",
                      f"Build one with `CODEASSIST_GPU={wanted} codeassist server build`."))
    return Check("backend", "ok", summary)


def check_inprocess() -> Check:
    try:
        llama_cpp = gguf.import_llama_cpp()
    except ModelError as exc:
        return _fail("llama-cpp-python", exc)
    lib = os.environ.get("LLAMA_CPP_LIB_PATH") or "its own folder"
    return Check("llama-cpp-python", "ok",
                 f"version {getattr(llama_cpp, '__version__', 'unknown')}, libllama from {lib}")


def check_model(settings: Settings) -> Check:
    if settings.server.url and not settings.model.path:
        return Check("model", "ok", f"whatever the server(s) at {', '.join(settings.server.url)} run")
    try:
        path = catalogue.resolve_model_path(settings)
        info = gguf.read_info(path)
    except ModelError as exc:
        return _fail("model", exc)
    details = [f"architecture {info.architecture}, trained context {info.context_length}",
               "fill-in-the-middle tokens: "
               + ("yes (/infill)" if info.has_fim else "no (prompt-built completions)"),
               f"chat template: {_template_line(info)}",
               f"size {info.size_bytes / 1e9:.2f} GB"]
    notice = catalogue.offline_model_notice(settings)
    if notice:
        details.append(notice)
    offline = catalogue.offline_model(settings)
    tiny = offline is not None and offline.name == catalogue.TINY_MODEL
    return Check("model", "warn" if tiny else "ok", f"{info.name} — {path}", tuple(details))


def check_endpoints(settings: Settings) -> list[EndpointState]:
    """Check every server of ``server.url`` once: state, API, latency (blocking)."""
    from codeassist.runtime.connect import backend_options, endpoints, resolve_backend
    from codeassist.runtime.pool import EndpointPool

    options = backend_options(settings)

    async def run() -> list[EndpointState]:
        pool = EndpointPool(endpoints(settings, timeout=10.0),
                            lambda ep: resolve_backend(ep, settings.server.api, options), check_timeout=10.0)
        try:
            return await pool.check()
        finally:
            await pool.aclose()

    return asyncio.run(run())


def describe_endpoint(state: EndpointState) -> str:
    if state.state == "up":
        return f"{state.url}: up ({state.api} API, {state.latency_ms:.0f} ms)"
    return f"{state.url}: {state.state}" + (f" — {state.error}" if state.error else "")


def check_server(settings: Settings) -> Check:
    if settings.server.url:
        states = check_endpoints(settings)
        up = sum(s.state == "up" for s in states)
        level: Level = "ok" if up == len(states) else "warn" if up else "fail"
        summary = (f"{up} of {len(states)} servers up" if len(states) > 1
                   else describe_endpoint(states[0]))
        details = [describe_endpoint(s) for s in states] if len(states) > 1 else []
        if level != "ok":
            details.append("Check that the servers of `server.url` run and are reachable "
                           "(and `server.api_key` / `server.ca_bundle` where they need them).")
        return Check("server", level, summary, tuple(details))
    status = ManagedServer(settings).status()
    if status.state == "running":
        return Check("server", "ok", f"running at {status.url} (pid {status.pid})")
    if status.state == "starting":
        return Check("server", "ok", f"loading the model at {status.url} (pid {status.pid})")
    return Check("server", "warn", f"{status.state}; it starts on first use",
                 ("Start it now with `codeassist server start`.",))


def check_recommendation() -> Check:
    vram = detect_vram_gb()
    choice = catalogue.recommend(vram)
    why = f"fits in {vram} GB of GPU memory" if vram is not None else "no GPU: the smallest Gemma 4"
    return Check("recommended model", "ok", f"{choice.spec} ({why})",
                 (f"`codeassist model pull {choice.spec}` then `codeassist model use {choice.spec}`",))


def run_checks(settings: Settings) -> list[Check]:
    binary_check, info = check_binary(settings)
    return [binary_check, check_backend(settings, info), check_inprocess(), check_model(settings),
            check_server(settings), check_recommendation()]


def _template_line(info: gguf.GGUFInfo) -> str:
    if info.chat_template:
        return "the model's own"
    family = templates.family_template(info.architecture)
    if isinstance(family, str):
        return f"none in the GGUF; llama.cpp's built-in {family!r} template"
    if family is not None:
        return f"none in the GGUF; codeassist's {family.stem!r} template for its family"
    return "none, and llama.cpp has none for this family: this model cannot chat"
