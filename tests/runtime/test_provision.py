"""Provisioning: binary resolution order, the verified build cache, backend flags, build errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codeassist.config import load_settings
from codeassist.errors import ServerBinaryError
from codeassist.runtime import _files, provision
from tests.support.llama import LlamaServerInfo, runtime_settings


@pytest.fixture
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty XDG cache for this test (the shared one holds the real build)."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no llama-server on PATH
    return cache


def _copy_libraries(source: Path, target: Path) -> None:
    """The shared libraries of a build (libllama, libggml*, ...) that llama-server runs with."""
    for lib in source.glob("lib*.so*"):
        shutil.copy2(lib, target / lib.name)


def test_configured_binary_is_probed(llama_server: LlamaServerInfo, tmp_path: Path) -> None:
    settings = runtime_settings(tmp_path, **{"server.binary": str(llama_server.binary)})
    info = provision.ensure_server_binary(settings)
    assert info.source == "config"
    assert info.path == llama_server.binary.resolve()
    assert info.version and info.version != "unknown"
    assert info.gpu_capable is False  # CPU build, no GPU here


def test_binary_on_path_comes_before_the_cache(llama_server: LlamaServerInfo, own_cache: Path,
                                               tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "llama-server").symlink_to(llama_server.binary)
    monkeypatch.setenv("PATH", f"{bindir}:/usr/bin:/bin")
    info = provision.ensure_server_binary(runtime_settings(tmp_path))
    assert info.source == "PATH"


def test_cached_build_is_adopted_verified_and_rejected_when_tampered(
        llama_server: LlamaServerInfo, own_cache: Path, tmp_path: Path) -> None:
    settings = runtime_settings(tmp_path, **{"server.backend": "cpu"})
    with pytest.raises(ServerBinaryError, match="No llama-server binary found") as info:
        provision.ensure_server_binary(settings)
    assert "codeassist server build" in (info.value.hint or "")
    cached = provision.cached_binary("cpu")
    cached.parent.mkdir(parents=True)
    shutil.copy2(llama_server.binary, cached)
    assert provision.library_dir() is None  # a build is the server and libllama, made together
    _copy_libraries(llama_server.binary.parent, cached.parent)
    assert provision.library_dir() == cached.parent
    # a binary without a stamp is not trusted until `server build` verified it
    with pytest.raises(ServerBinaryError):
        provision.ensure_server_binary(settings)
    messages: list[str] = []
    built = provision.build_server(settings, report=messages.append)  # verifies, does not compile
    assert built.path == cached and any("verified" in m for m in messages)
    stamp = json.loads((provision.build_dir_for("cpu") / provision.STAMP_NAME).read_text())
    assert stamp["sha256"] == _files.sha256_of(cached)
    assert stamp["cmake_flags"] == list(provision._cmake_flags("cpu"))
    assert provision.ensure_server_binary(settings).source == "cache"
    again: list[str] = []
    provision.build_server(settings, report=again.append)
    assert any("already built" in m for m in again)
    with cached.open("ab") as fh:  # a changed binary no longer matches its stamp
        fh.write(b"\0")
    with pytest.raises(ServerBinaryError, match="No llama-server binary found"):
        provision.ensure_server_binary(settings)


def test_backend_choice_and_cmake_flags(tmp_path: Path) -> None:
    settings = load_settings(None, env={"CODEASSIST_GPU": "cuda"}, user_config=tmp_path / "none.toml")
    assert provision.resolve_backend(settings) == "cuda"
    assert provision.build_dir_for("cuda").name == "0.3.36-cuda"
    assert provision.build_dir_for("cuda").parent.name == "llama.cpp"
    assert "-DGGML_CUDA=ON" in provision._cmake_flags("cuda")
    assert "-DGGML_VULKAN=ON" in provision._cmake_flags("vulkan")
    assert "-DGGML_METAL=ON" in provision._cmake_flags("metal")
    cpu = provision._cmake_flags("cpu")
    # one build gives the server and the libllama that llama-cpp-python loads
    assert "-DBUILD_SHARED_LIBS=ON" in cpu and not any("GGML_CUDA" in f for f in cpu)
    auto = load_settings(None, env={}, user_config=tmp_path / "none.toml")
    assert provision.resolve_backend(auto) in {"cpu", "cuda", "metal"}


def test_failing_build_reports_the_log(own_cache: Path, tmp_path: Path) -> None:
    source = own_cache / "codeassist" / "src" / f"llama_cpp_python-{provision.LLAMA_CPP_PYTHON_VERSION}"
    vendor = source / "vendor" / "llama.cpp"
    vendor.mkdir(parents=True)
    (vendor / "CMakeLists.txt").write_text('cmake_minimum_required(VERSION 3.14)\n'
                                           'message(FATAL_ERROR "this source tree is broken")\n')
    settings = runtime_settings(tmp_path, **{"server.backend": "cpu"})
    with pytest.raises(ServerBinaryError, match=r"Configuring llama\.cpp failed") as info:
        provision.build_server(settings)
    assert "this source tree is broken" in info.value.message
    assert (provision.build_dir_for("cpu") / "build.log").is_file()


def test_build_waits_for_a_build_already_running(llama_server: LlamaServerInfo, own_cache: Path,
                                                 tmp_path: Path) -> None:
    settings = runtime_settings(tmp_path, **{"server.backend": "cpu"})
    cached = provision.cached_binary("cpu")
    build_dir = cached.parent.parent
    cached.parent.mkdir(parents=True)
    _copy_libraries(llama_server.binary.parent, cached.parent)
    # another process compiling into the same build directory: it finishes after a moment
    script = ("import shutil, sys, time, pathlib; time.sleep(1.5); "
              "p = pathlib.Path(sys.argv[1]); p.parent.mkdir(parents=True, exist_ok=True); "
              "shutil.copy2(sys.argv[2], p)")
    other = subprocess.Popen([sys.executable, "-c", script, str(cached), str(llama_server.binary),
                              "--build", str(build_dir)])
    try:
        # /proc/PID/cmdline is empty for a moment after exec: wait until the process shows it
        deadline = time.monotonic() + 10
        while provision._build_running(build_dir) != [other.pid] and time.monotonic() < deadline:
            time.sleep(0.01)
        assert provision._build_running(build_dir) == [other.pid]
        messages: list[str] = []
        built = provision.build_server(settings, report=messages.append)
        assert any("already running" in m for m in messages)
        assert any("verified" in m for m in messages)  # adopted, not compiled a second time
        assert built.path == cached
        assert not (provision.build_dir_for("cpu") / "build.log").exists()
    finally:
        other.wait(timeout=30)
