"""ManagedServer and LocalRuntime with real llama-server processes (tiny Gemma, free ports)."""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from codeassist.config import Settings
from codeassist.errors import ModelError, ServerBinaryError, ServerStartError
from codeassist.runtime import CompletionParams, LocalRuntime
from codeassist.runtime.provision import BinaryInfo
from codeassist.runtime.server import ManagedServer, server_command
from tests.support.llama import LlamaServerInfo


def _wait_gone(pid: int, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return
        time.sleep(0.05)
    pytest.fail(f"process {pid} still alive")


def test_start_status_stop(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    settings = make_settings()
    srv = ManagedServer(settings, state_dir=tmp_path / "state")
    assert srv.status().state == "stopped"
    status = srv.start()
    try:
        assert status.state == "running" and status.health == "ok"
        assert status.url == f"http://127.0.0.1:{settings.server.port}"
        again = ManagedServer(settings, state_dir=tmp_path / "state").start()  # another process' view
        assert again.pid == status.pid
        cmd = status.command
        assert cmd[cmd.index("--parallel") + 1] == "2"
        assert "--swa-full" in cmd  # Gemma 3 uses sliding-window attention
        assert cmd[cmd.index("--cache-reuse") + 1] == "256"
        assert cmd[cmd.index("-ngl") + 1] == "0"  # CPU build
        assert srv.log_path.read_text().strip()
    finally:
        assert srv.stop() is True
    assert status.pid is not None
    _wait_gone(status.pid)
    assert srv.status().state == "stopped"
    assert srv.stop() is False


async def test_runtime_starts_lazily_and_restarts_after_kill(
        make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    settings = make_settings()
    runtime = LocalRuntime(settings, state_dir=tmp_path / "state")
    assert runtime.server is not None
    assert runtime.server.status().state == "stopped"
    try:
        client = await runtime.client()
        assert await client.health() == "ok"
        first = runtime.server.status().pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        _wait_gone(first)
        assert runtime.server.status().state == "dead"
        client = await runtime.client()  # notices the dead process and starts a new one
        assert await client.health() == "ok"
        second = runtime.server.status().pid
        assert second is not None and second != first
        done = await client.complete("def add(a, b):\n", CompletionParams(n_predict=4))
        assert done.timings.predicted_n > 0
    finally:
        await runtime.aclose()
        runtime.server.stop()


async def test_runtime_attaches_to_a_server_url(llama_server: LlamaServerInfo, tmp_path: Path) -> None:
    from tests.support.llama import runtime_settings

    settings = runtime_settings(tmp_path, **{"server.url": llama_server.url,
                                             "model.path": str(llama_server.model)})
    runtime = LocalRuntime(settings)
    assert runtime.attached and runtime.server is None
    try:
        client = await runtime.client()
        assert client.base_url == llama_server.url
        text = "import os\nprint(os.getcwd())\n"
        assert await runtime.count_tokens(text) == len(await client.tokenize(text))
        assert runtime.notice() is None  # the server elsewhere decides the model
    finally:
        await runtime.aclose()


def test_port_in_use(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        srv = ManagedServer(make_settings(server__port=port), state_dir=tmp_path)
        with pytest.raises(ServerStartError, match="already in use") as info:
            srv.start()
        assert "--port" in (info.value.hint or "")
        assert "server.url" not in (info.value.hint or "")  # it is no llama-server


def test_port_taken_by_a_llama_server_suggests_server_url(
        make_settings: Callable[..., Settings], llama_server: LlamaServerInfo, tmp_path: Path) -> None:
    srv = ManagedServer(make_settings(server__port=llama_server.port), state_dir=tmp_path)
    with pytest.raises(ServerStartError) as info:
        srv.start()
    assert f'server.url = "{llama_server.url}"' in (info.value.hint or "")


def test_missing_and_broken_binary(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    with pytest.raises(ServerBinaryError, match="no such file"):
        ManagedServer(make_settings(server__binary=str(tmp_path / "nope")), state_dir=tmp_path).start()
    broken = tmp_path / "llama-server"
    broken.write_text("#!/bin/sh\necho 'cannot start' >&2\nexit 3\n")
    broken.chmod(0o755)
    with pytest.raises(ServerBinaryError, match="exit 3") as info:
        ManagedServer(make_settings(server__binary=str(broken)), state_dir=tmp_path).start()
    assert "server build" in (info.value.hint or "")


def test_missing_and_bad_model_files(make_settings: Callable[..., Settings], tmp_path: Path,
                                     llama_server: LlamaServerInfo) -> None:
    missing = make_settings(model__path=str(tmp_path / "missing.gguf"))
    with pytest.raises(ModelError, match="does not exist"):
        ManagedServer(missing, state_dir=tmp_path).start()
    text = tmp_path / "notes.gguf"
    text.write_text("not a model\n")
    with pytest.raises(ModelError, match="not a GGUF"):
        ManagedServer(make_settings(model__path=str(text)), state_dir=tmp_path).start()
    truncated = tmp_path / "truncated.gguf"
    with llama_server.model.open("rb") as fh:
        truncated.write_bytes(fh.read(1 << 20))
    with pytest.raises(ModelError, match="cannot load"):
        ManagedServer(make_settings(model__path=str(truncated)), state_dir=tmp_path).start()
    assert not (tmp_path / "server.json").exists()


def test_server_dying_at_start_reports_its_log(make_settings: Callable[..., Settings],
                                               tmp_path: Path) -> None:
    settings = make_settings(server__extra_args=["--no-such-flag"])
    srv = ManagedServer(settings, state_dir=tmp_path)
    with pytest.raises(ServerStartError, match="exited during start-up") as info:
        srv.start()
    assert str(srv.log_path) in (info.value.hint or "")
    assert srv.status().state == "stopped"


def test_server_crashing_on_an_instruction_says_to_rebuild(make_settings: Callable[..., Settings],
                                                           tmp_path: Path,
                                                           llama_server: LlamaServerInfo) -> None:
    """A build for instructions this CPU cannot run (SIGILL at the first prompt) is named as
    such, not as a model that failed to load (the log names the .gguf it was loading)."""
    crashing = tmp_path / "llama-server"
    crashing.write_text(
        "#!/bin/sh\n"
        f'case "$*" in *--version*|*--list-devices*) exec "{llama_server.binary}" "$@";; esac\n'
        "echo \"load_model: loading model 'model.gguf'\"\n"
        "kill -ILL $$\n")
    crashing.chmod(0o755)
    srv = ManagedServer(make_settings(server__binary=str(crashing)), state_dir=tmp_path)
    with pytest.raises(ServerStartError, match=r"crashed during start-up \(illegal instruction\)") as info:
        srv.start()
    assert "codeassist server build --force" in (info.value.hint or "")
    assert srv.status().state == "stopped"


@pytest.mark.parametrize(("log", "expected"), [
    # the model's path is in every log: a server that dies later is not a bad model
    ("load_model: loading model 'model.gguf'\\nllama_init_from_model: failed to allocate KV cache",
     "exited during start-up"),
    # what llama.cpp says of a file it cannot read
    ("load_model: loading model 'model.gguf'\\ngguf_init_from_file_impl: invalid magic characters",
     "could not load the model"),
    ("srv load_model: failed to load model, 'model.gguf'", "could not load the model"),
])
def test_a_start_up_failure_is_named_by_what_failed(make_settings: Callable[..., Settings], tmp_path: Path,
                                                    llama_server: LlamaServerInfo, log: str,
                                                    expected: str) -> None:
    dying = tmp_path / "llama-server"
    dying.write_text(
        "#!/bin/sh\n"
        f'case "$*" in *--version*|*--list-devices*) exec "{llama_server.binary}" "$@";; esac\n'
        f'printf "{log}\\n"\n'
        "exit 1\n")
    dying.chmod(0o755)
    srv = ManagedServer(make_settings(server__binary=str(dying)), state_dir=tmp_path)
    with pytest.raises(ServerStartError, match=expected):
        srv.start()
    assert srv.status().state == "stopped"


def _binary(backend: str) -> BinaryInfo:
    return BinaryInfo(path=Path("/opt/llama-server"), version="1", backend=backend,
                      gpu_capable=backend != "cpu", source="config")


def test_command_line_from_settings(make_settings: Callable[..., Settings]) -> None:
    model = Path("/models/m.gguf")
    cuda = server_command(make_settings(server__parallel=1), _binary("cuda"), model, None)
    assert cuda[cuda.index("-ngl") + 1] == "all"
    assert cuda[cuda.index("--parallel") + 1] == "2"  # one slot for completions, one for chat
    assert "--swa-full" not in cuda
    layers = server_command(make_settings(server__gpu_layers=20, server__flash_attn="on", server__threads=3,
                                          server__cache_reuse=0), _binary("vulkan"), model, None)
    assert layers[layers.index("-ngl") + 1] == "20"
    assert layers[layers.index("-fa") + 1] == "on"
    assert layers[layers.index("-t") + 1] == "3"
    assert "--cache-reuse" not in layers
