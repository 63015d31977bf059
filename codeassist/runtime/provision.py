"""Finding, building and checking the native ``llama-server`` binary and ``libllama``.

Resolution order: ``server.binary`` from config, then ``llama-server`` on PATH, then the build
cached under ``~/.cache/codeassist/llama.cpp/<version>-<backend>/build/bin``.

The build takes llama.cpp from the llama-cpp-python source distribution (which vendors a
llama.cpp with ``/infill`` and ``/v1/messages``) and compiles it once per machine and backend, in
one cmake build with shared libraries: ``llama-server`` and the ``libllama`` that the in-process
tokenizer (llama-cpp-python, installed without a library of its own) loads. A stamp file next to
the build records what was built and the binary's sha256; a cached binary is used only when it
matches its stamp and ``--version`` runs.
"""

from __future__ import annotations

import logging
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from codeassist import paths
from codeassist.config import Settings
from codeassist.errors import ServerBinaryError
from codeassist.runtime import _files, cpu_flags

__all__ = ["BinaryInfo", "build_server", "cache_root", "ensure_server_binary", "library_dir",
           "resolve_backend"]

log = logging.getLogger(__name__)

LLAMA_CPP_PYTHON_VERSION = "0.3.36"
BASE_CMAKE_FLAGS = (
    "-DBUILD_SHARED_LIBS=ON", "-DLLAMA_BUILD_SERVER=ON", "-DLLAMA_BUILD_TOOLS=ON",
    "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF", "-DLLAMA_CURL=OFF",
    "-DCMAKE_BUILD_TYPE=Release",
)
BACKEND_FLAGS: dict[str, tuple[str, ...]] = {
    "cpu": (), "cuda": ("-DGGML_CUDA=ON",), "vulkan": ("-DGGML_VULKAN=ON",), "metal": ("-DGGML_METAL=ON",),
}
GPU_BACKENDS = frozenset({"cuda", "vulkan", "metal"})
STAMP_NAME = "codeassist-build.json"
BUILD_TARGETS = ("llama-server", "llama")  # the server and the library llama-cpp-python loads
LIBRARY_NAME = {"darwin": "libllama.dylib", "win32": "llama.dll"}.get(sys.platform, "libllama.so")
_DEVICE_RE = re.compile(r"^\s*(CUDA|Vulkan|Metal|ROCm|SYCL|MTL)\d*\s*:", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class BinaryInfo:
    """A llama-server that runs. ``gpu_capable``: a GPU backend is compiled in and sees a device."""

    path: Path
    version: str
    backend: str  # cpu, cuda, vulkan, metal, or "unknown" for a foreign binary without GPU devices
    gpu_capable: bool
    source: str  # "config", "PATH" or "cache"
    devices: tuple[str, ...] = ()


def cache_root() -> Path:
    return paths.cache_dir() / "llama.cpp"


def build_dir_for(backend: str) -> Path:
    return cache_root() / f"{LLAMA_CPP_PYTHON_VERSION}-{backend}"


def cached_binary(backend: str) -> Path:
    return build_dir_for(backend) / "build" / "bin" / "llama-server"


def library_dir() -> Path | None:
    """The folder holding a cached build's ``libllama`` (CPU build first), or None before a build.

    llama-cpp-python is installed without a library of its own; it loads the one built here,
    found through ``LLAMA_CPP_LIB_PATH`` (see :func:`codeassist.runtime.gguf`).
    """
    for backend in dict.fromkeys(("cpu", *BACKEND_FLAGS)):
        folder = cached_binary(backend).parent
        if (folder / LIBRARY_NAME).is_file():
            return folder
    return None


def _gpu_present() -> bool:
    if Path("/dev/nvidia0").exists():
        return True
    return shutil.which("nvidia-smi") is not None and _run_ok(["nvidia-smi", "-L"])


def _run_ok(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=10, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def resolve_backend(settings: Settings) -> str:
    """The backend to build or prefer: the configured one, or ``auto`` → what this machine has."""
    backend = settings.server.backend
    if backend != "auto":
        return backend
    if sys.platform == "darwin" and platform.machine() == "arm64":
        return "metal"
    if _gpu_present() and shutil.which("nvcc") is not None:
        return "cuda"
    return "cpu"


def probe_binary(path: Path, source: str, backend_hint: str | None = None) -> BinaryInfo:
    """Run ``--version`` and ``--list-devices``; raise :class:`ServerBinaryError` if it does not run."""
    try:
        proc = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=30,
                              check=False)
    except OSError as exc:
        raise ServerBinaryError(f"llama-server at {path} cannot be run: {exc.strerror}.",
                                hint="Rebuild it with `codeassist server build --force`, or point "
                                     "`server.binary` at a working llama-server.") from exc
    except subprocess.TimeoutExpired as exc:
        raise ServerBinaryError(f"`{path} --version` did not finish in 30 s.") from exc
    output = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0:
        raise ServerBinaryError(f"`{path} --version` failed (exit {proc.returncode}): {output[-300:]}",
                                hint="Rebuild it with `codeassist server build --force`.")
    version = _parse_version(output)
    devices = _list_devices(path)
    gpu_devices = tuple(d for d in devices if _DEVICE_RE.match(d))
    backend = backend_hint or _backend_from_devices(gpu_devices)
    return BinaryInfo(path=path, version=version, backend=backend,
                      gpu_capable=backend in GPU_BACKENDS and bool(gpu_devices),
                      source=source, devices=devices)


def _parse_version(output: str) -> str:
    for line in output.splitlines():
        if line.startswith("version:"):
            return line.split(":", 1)[1].strip()
    return output.splitlines()[0].strip() if output else "unknown"


def _list_devices(path: Path) -> tuple[str, ...]:
    try:
        proc = subprocess.run([str(path), "--list-devices"], capture_output=True, text=True, timeout=30,
                              check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    lines = [ln.strip() for ln in (proc.stdout + proc.stderr).splitlines()]
    return tuple(ln for ln in lines if _DEVICE_RE.match(ln))


def _backend_from_devices(devices: tuple[str, ...]) -> str:
    for device in devices:
        low = device.lower()
        for backend in ("cuda", "vulkan", "metal"):
            if low.startswith(backend) or (backend == "metal" and low.startswith("mtl")):
                return backend
    return "unknown"


def _stamp_matches(backend: str, binary: Path) -> bool:
    stamp = _files.read_json(build_dir_for(backend) / STAMP_NAME)
    if stamp is None:
        return False
    return bool(stamp.get("sha256") == _files.sha256_of(binary)
                and stamp.get("cmake_flags") == list(_cmake_flags(backend))
                and (binary.parent / LIBRARY_NAME).is_file())


def _cached_info(backend: str) -> BinaryInfo | None:
    binary = cached_binary(backend)
    if not binary.is_file() or not _stamp_matches(backend, binary):
        return None
    try:
        return probe_binary(binary, "cache", backend_hint=backend)
    except ServerBinaryError as exc:
        log.warning("cached llama-server %s is unusable: %s", binary, exc)
        return None


def ensure_server_binary(settings: Settings) -> BinaryInfo:
    """The llama-server to run: config, then PATH, then the cached build. Never builds."""
    configured = settings.server.binary
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise ServerBinaryError(f"`server.binary` is {configured}, but no such file exists.",
                                    hint="Fix `server.binary`, or remove it to use the cached build.")
        return probe_binary(path.resolve(), "config")
    on_path = shutil.which("llama-server")
    if on_path:
        return probe_binary(Path(on_path).resolve(), "PATH")
    backend = resolve_backend(settings)
    for candidate in dict.fromkeys((backend, "cpu")):
        info = _cached_info(candidate)
        if info is not None:
            return info
    raise ServerBinaryError(
        "No llama-server binary found (not configured, not on PATH, not built).",
        hint="Build it once with `codeassist server build` (about 5 minutes on 2 cores), or set "
             "`server.binary`, or `server.url` for a server running elsewhere.",
    )


# --- building ----------------------------------------------------------------------------------
Reporter = Callable[[str], None]


def _cmake_flags(backend: str) -> tuple[str, ...]:
    if backend not in BACKEND_FLAGS:
        raise ServerBinaryError(f"Unknown backend {backend!r}.",
                                hint=f"Use one of: {', '.join(BACKEND_FLAGS)}.")
    return BASE_CMAKE_FLAGS + cpu_flags.instruction_set_flags() + BACKEND_FLAGS[backend]


def build_server(settings: Settings, *, force: bool = False, report: Reporter | None = None) -> BinaryInfo:
    """Build (or reuse) the cached llama-server for the configured backend."""
    say = report or (lambda msg: log.info("%s", msg))
    backend = resolve_backend(settings)
    binary = cached_binary(backend)
    build_dir = build_dir_for(backend)
    if not force:
        reused = _reuse_cached(backend, binary, say)
        if reused is not None:
            return reused
    _check_tools(backend)
    build_dir.mkdir(parents=True, exist_ok=True)
    with _files.exclusive_lock(build_dir / ".build.lock"):
        _wait_for_foreign_build(build_dir / "build", say)
        if not force:
            reused = _reuse_cached(backend, binary, say)
            if reused is not None:
                return reused
        source = _ensure_source(say)
        _compile(source, build_dir, backend, say)
    info = probe_binary(binary, "cache", backend_hint=backend)
    _write_stamp(backend, info)
    say(f"built {binary} ({info.version}, backend {backend})")
    return info


def _reuse_cached(backend: str, binary: Path, say: Reporter) -> BinaryInfo | None:
    """The cached binary if it runs; a binary without a stamp (an earlier build) gets one."""
    info = _cached_info(backend)
    if info is not None:
        say(f"llama-server already built: {binary} ({info.version}, backend {backend})")
        return info
    if (binary.is_file() and (binary.parent / LIBRARY_NAME).is_file()
            and not _build_running(binary.parent.parent)):
        try:
            info = probe_binary(binary, "cache", backend_hint=backend)
        except ServerBinaryError:
            return None
        stamp = _files.read_json(build_dir_for(backend) / STAMP_NAME)
        if stamp is None or stamp.get("cmake_flags") == list(_cmake_flags(backend)):
            _write_stamp(backend, info)
            say(f"llama-server found in the cache and verified: {binary} ({info.version})")
            return info
    return None


def _write_stamp(backend: str, info: BinaryInfo) -> None:
    stamp = {"llama_cpp_python": LLAMA_CPP_PYTHON_VERSION, "backend": backend,
             "cmake_flags": list(_cmake_flags(backend)), "binary": str(info.path),
             "sha256": _files.sha256_of(info.path), "version": info.version,
             "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
             "probe": {k: v for k, v in asdict(info).items() if k in {"version", "devices"}}}
    _files.write_json(build_dir_for(backend) / STAMP_NAME, stamp)


def _check_tools(backend: str) -> None:
    missing = [tool for tool in ("cmake", "c++") if shutil.which(tool) is None]
    if missing:
        raise ServerBinaryError(f"Building llama-server needs {', '.join(missing)}, which is not installed.",
                                hint="Install a compiler and CMake (Debian/Ubuntu: "
                                     "`apt-get install build-essential cmake`).")
    if backend == "cuda" and shutil.which("nvcc") is None:
        raise ServerBinaryError("The CUDA backend needs the CUDA toolkit (nvcc), which is not on PATH.",
                                hint="Install the CUDA toolkit, or build for the CPU with "
                                     "CODEASSIST_GPU=cpu.")


def _build_running(build_dir: Path) -> list[int]:
    """Pids of ``cmake --build`` processes working on ``build_dir`` (Linux /proc; else none)."""
    pids: list[int] = []
    proc = Path("/proc")
    if not proc.is_dir():
        return pids
    needle = str(build_dir)
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        text = [a.decode("utf-8", "replace") for a in args if a]
        if "--build" in text and any(a.rstrip("/") == needle for a in text):
            pids.append(int(entry.name))
    return pids


def _wait_for_foreign_build(build_dir: Path, say: Reporter) -> None:
    pids = _build_running(build_dir)
    if pids:
        say(f"a build of {build_dir} is already running (pid {pids[0]}); waiting for it")
    while _build_running(build_dir):
        time.sleep(5)


def _ensure_source(say: Reporter) -> Path:
    src_root = paths.cache_dir() / "src"
    source = src_root / f"llama_cpp_python-{LLAMA_CPP_PYTHON_VERSION}"
    if (source / "vendor" / "llama.cpp" / "CMakeLists.txt").is_file():
        return source
    src_root.mkdir(parents=True, exist_ok=True)
    archive = src_root / f"llama_cpp_python-{LLAMA_CPP_PYTHON_VERSION}.tar.gz"
    if not archive.is_file():
        say(f"downloading the llama-cpp-python {LLAMA_CPP_PYTHON_VERSION} source distribution")
        _run_logged([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                     f"llama-cpp-python=={LLAMA_CPP_PYTHON_VERSION}", "-d", str(src_root)],
                    src_root / "download.log", "Downloading the llama-cpp-python sources")
    say(f"unpacking {archive.name}")
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4: refuse links/paths leaving the tree
            tar.extractall(src_root, filter="data")
        else:  # pragma: no cover - older 3.11 releases
            tar.extractall(src_root)
    if not (source / "vendor" / "llama.cpp" / "CMakeLists.txt").is_file():
        raise ServerBinaryError(f"{archive} does not contain vendor/llama.cpp.",
                                hint=f"Delete {archive} and run `codeassist server build` again.")
    return source


def _compile(source: Path, build_dir: Path, backend: str, say: Reporter) -> None:
    log_path = build_dir / "build.log"
    log_path.write_text("", encoding="utf-8")
    jobs = str(os.cpu_count() or 2)
    say(f"configuring llama.cpp ({backend}); log: {log_path}")
    _run_logged(["cmake", "-B", str(build_dir / "build"), "-S", str(source / "vendor" / "llama.cpp"),
                 *_cmake_flags(backend)], log_path, "Configuring llama.cpp")
    say(f"compiling llama-server and libllama with {jobs} jobs (about 5 minutes on 2 cores, "
        f"once per machine)")
    _run_logged(["cmake", "--build", str(build_dir / "build"), "--target", *BUILD_TARGETS, "-j", jobs],
                log_path, "Compiling llama.cpp")


def _run_logged(cmd: list[str], log_path: Path, what: str) -> None:
    with log_path.open("ab") as fh:
        fh.write(("$ " + " ".join(cmd) + "\n").encode())
        fh.flush()
        try:
            proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, check=False)
        except OSError as exc:
            raise ServerBinaryError(f"{what} failed: cannot run {cmd[0]} ({exc.strerror}).") from exc
    if proc.returncode != 0:
        raise ServerBinaryError(f"{what} failed (exit {proc.returncode}). From {log_path}:\n"
                                f"{_error_lines(log_path)}",
                                hint="Fix the cause shown above and run `codeassist server build` again.")


def _error_lines(log_path: Path, limit: int = 12) -> str:
    """The log's error lines with the line after each (cmake puts the reason there), else its tail."""
    lines = _files.tail(log_path, 400).splitlines()
    picked: list[str] = []
    for i, line in enumerate(lines):
        if "error" in line.lower() and len(picked) < limit:
            picked.extend(ln for ln in lines[i:i + 2] if ln not in picked)
    return "\n".join(picked[:limit]) if picked else "\n".join(lines[-15:])
