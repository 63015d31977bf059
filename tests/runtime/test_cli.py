"""`codeassist server ...`, `codeassist model ...` and `codeassist doctor` as real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from codeassist import paths
from tests.support.llama import LlamaServerInfo, free_port


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **env}
    return subprocess.run([sys.executable, "-m", "codeassist", *args], capture_output=True, text=True,
                          env=full_env, timeout=180, check=False)


def test_model_list_use_and_path(default_llama_server: LlamaServerInfo) -> None:
    listed = run("model", "list", "--vram", "8")
    assert listed.returncode == 0, listed.stderr
    assert "* qwen2.5-coder-0.5b " in listed.stdout  # in use: the offline default
    assert "+ gemma-4-e4b " in listed.stdout  # recommended for 8 GB
    for name in ("gemma-4-e2b", "gemma-4-26b-a4b", "gemma-4-31b:Q8_0", "qwen2.5-coder-1.5b",
                 "gemma3-270m-tiny"):
        assert name in listed.stdout  # the other offline models stay selectable
    assert "qwen2.5-coder-0.5b is the default. Gemma 4 is the recommended model" in listed.stdout
    default = run("model", "path")
    assert default.returncode == 0, default.stderr
    assert Path(default.stdout.strip()) == default_llama_server.model
    assert "offline model Qwen2.5-Coder 0.5B Instruct" in default.stderr
    assert "Gemma 4 is the recommended model" in default.stderr

    used = run("model", "use", "gemma-4-e2b:Q8_0")
    assert used.returncode == 0, used.stderr
    assert "codeassist model pull gemma-4-e2b:Q8_0" in used.stderr
    saved = tomllib.loads(paths.user_config_file().read_text())
    assert saved["model"]["name"] == "gemma-4-e2b:Q8_0"
    missing = run("model", "path")
    assert missing.returncode == 5
    assert "has not been downloaded" in missing.stderr and "Traceback" not in missing.stderr

    unknown = run("model", "use", "gemma-9")
    assert unknown.returncode == 5 and "no model called 'gemma-9'" in unknown.stderr
    by_path = run("model", "use", str(default_llama_server.model))
    assert by_path.returncode == 0
    assert Path(run("model", "path").stdout.strip()) == default_llama_server.model


def test_pull_without_a_reachable_hub() -> None:
    pulled = run("model", "pull", "gemma-4-e2b", HF_ENDPOINT=f"http://127.0.0.1:{free_port()}")
    assert pulled.returncode == 5
    assert "Cannot reach" in pulled.stderr and "Traceback" not in pulled.stderr


def test_server_lifecycle_through_the_cli(llama_server: LlamaServerInfo) -> None:
    env = {"CODEASSIST_SERVER_PORT": str(free_port()), "CODEASSIST_SERVER_BINARY": str(llama_server.binary),
           "CODEASSIST_SERVER_CTX_SIZE": "4096", "CODEASSIST_MODEL": llama_server.name}
    stopped = run("server", "status", **env)
    assert stopped.returncode == 4 and "state: stopped" in stopped.stdout
    started = run("server", "start", **env)
    try:
        assert started.returncode == 0, started.stderr
        assert "llama-server running at http://127.0.0.1:" in started.stdout
        assert "tiny offline model" in started.stderr
        status = run("server", "status", "--json", **env)
        assert status.returncode == 0
        data = json.loads(status.stdout)
        assert data["state"] == "running" and data["health"] == "ok"
        assert data["model"] == str(llama_server.model)
        logs = run("server", "logs", "-n", "5", **env)
        assert logs.returncode == 0 and len(logs.stdout.splitlines()) == 5
        doctor = run("doctor", **env)
        assert doctor.returncode == 0, doctor.stdout
        assert "[ok  ] llama-server binary" in doctor.stdout
        assert "[ok  ] server: running at" in doctor.stdout
        assert "[warn] model" in doctor.stdout  # the tiny model works, with its notice
    finally:
        stop = run("server", "stop", **env)
    assert stop.returncode == 0 and "llama-server stopped" in stop.stdout
    assert run("server", "stop", **env).stdout.strip() == "llama-server was not running"


def test_doctor_reports_problems(tmp_path: Path) -> None:
    doctor = run("doctor", CODEASSIST_SERVER_BINARY=str(tmp_path / "missing"),
                 CODEASSIST_MODEL_PATH=str(tmp_path / "missing.gguf"))
    assert doctor.returncode == 4
    assert "[FAIL] llama-server binary" in doctor.stdout
    assert "[FAIL] model" in doctor.stdout


def test_server_build_reuses_the_verified_build(llama_server: LlamaServerInfo) -> None:
    built = run("server", "build", "--backend", "cpu", PATH="/usr/bin:/bin")
    assert built.returncode == 0, built.stderr
    assert "already built" in built.stderr or "verified" in built.stderr
    assert "backend cpu" in built.stdout
