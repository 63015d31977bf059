"""`codeassist server start --host ADDR --api-key-file F --metrics`: a managed server for a team."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.llama import LlamaServerInfo, free_port


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "codeassist", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=180, check=False)


def test_a_non_loopback_host_needs_a_key(llama_server: LlamaServerInfo) -> None:
    env = {"CODEASSIST_SERVER_PORT": str(free_port()), "CODEASSIST_SERVER_BINARY": str(llama_server.binary)}
    refused = run("server", "start", "--host", "0.0.0.0", **env)
    assert refused.returncode == 2
    assert "without an API key" in refused.stderr and "--api-key-file" in refused.stderr
    assert run("server", "status", **env).returncode == 4  # nothing was started


def test_keyed_server_with_metrics(llama_server: LlamaServerInfo, tmp_path: Path) -> None:
    keys = tmp_path / "team.keys"
    keys.write_text("first-key\nsecond-key\n", encoding="utf-8")
    port = free_port()
    env = {"CODEASSIST_SERVER_PORT": str(port), "CODEASSIST_SERVER_BINARY": str(llama_server.binary),
           "CODEASSIST_SERVER_CTX_SIZE": "4096"}
    started = run("server", "start", "--api-key-file", str(keys), "--metrics", **env)
    try:
        assert started.returncode == 0, started.stderr
        url = f"http://127.0.0.1:{port}"
        status = run("server", "status", "--json", **env)
        assert "--api-key-file" in status.stdout and "--metrics" in status.stdout
        assert "first-key" not in status.stdout  # the command line names the file, not the keys
        body = {"prompt": "def f():\n", "n_predict": 2}
        assert httpx.post(f"{url}/completion", json=body, timeout=60).status_code == 401
        for key in ("first-key", "second-key"):
            answer = httpx.post(f"{url}/completion", json=body, timeout=60,
                                headers={"Authorization": f"Bearer {key}"})
            assert answer.status_code == 200
        metrics = httpx.get(f"{url}/metrics", headers={"Authorization": "Bearer first-key"}, timeout=30)
        assert metrics.status_code == 200 and "llamacpp:" in metrics.text
        # this machine's own commands find the key through the server's state
        source = tmp_path / "a.py"
        source.write_text("def add(a, b):\n    return a + b\n", encoding="utf-8")
        done = run("complete", str(source), "--line", "2", "--col", "4", CODEASSIST_COMPLETION_N_PREDICT="4",
                   CODEASSIST_COMPLETION_TIMEOUT="120", **env)
        assert done.returncode == 0, done.stderr
    finally:
        run("server", "stop", **env)
