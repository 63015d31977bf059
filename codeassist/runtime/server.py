"""The managed background ``llama-server`` process (the one module starting and stopping it).

State lives in the XDG state directory (``~/.local/state/codeassist/``): ``server.json`` (pid, port,
url, model, binary, command line), ``server.log`` (its output; the previous run's in
``server.log.1``) and ``server.lock`` (serialises start/stop between processes). The server runs in
its own session, so it outlives the command that started it; ``codeassist server stop`` ends it.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import logging
import os
import signal
import socket
import subprocess
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from codeassist import paths
from codeassist.config import Settings
from codeassist.errors import ConfigError, ServerStartError
from codeassist.runtime import _files, catalogue, gguf, provision, templates
from codeassist.runtime.llama_client import HealthState, probe_health

__all__ = ["ManagedServer", "ServerStatus", "is_loopback", "read_key_file", "server_command"]

log = logging.getLogger(__name__)

State = Literal["running", "starting", "stopped", "dead"]
_STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class ServerStatus:
    """What ``codeassist server status`` prints. ``state``: running (healthy), starting (loading
    the model), stopped (no server), dead (the recorded process is gone)."""

    state: State
    url: str
    log_path: Path
    pid: int | None = None
    model: str | None = None
    binary: str | None = None
    started_at: str | None = None
    health: HealthState | None = None
    command: tuple[str, ...] = ()


def is_loopback(host: str) -> bool:
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def read_key_file(path: str | Path) -> list[str]:
    """The keys of an ``--api-key-file`` (one per line, blank lines ignored)."""
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot read the API key file {path}: {exc.strerror}.",
                          hint="Write one key per line into it, readable only by you (chmod 600).",
                          key="server.api_key_file") from exc
    keys = [line.strip() for line in text.splitlines() if line.strip()]
    if not keys:
        raise ConfigError(f"The API key file {path} holds no key.", hint="Write one key per line into it.",
                          key="server.api_key_file")
    return keys


def server_command(settings: Settings, binary: provision.BinaryInfo, model: Path,
                   info: gguf.GGUFInfo | None, *, key_file: Path | None = None) -> list[str]:
    """llama-server's command line for these settings, model and binary.

    The model's own chat template runs through Jinja; a GGUF without one gets its family's
    template: a Jinja file shipped with codeassist, else llama.cpp's built-in one
    (``--chat-template NAME``, which only works without ``--jinja``).
    ``key_file`` holds the keys clients must send (``server.api_key_file``, or ``server.api_key``
    written to a private file: a key never appears on a command line).
    """
    srv = settings.server
    cmd = [str(binary.path), "-m", str(model), "--host", srv.host, "--port", str(srv.port),
           "-c", str(srv.ctx_size), "--parallel", str(max(2, srv.parallel))]
    family = templates.family_template(info.architecture) if info and not info.chat_template else None
    if isinstance(family, str):  # a built-in template of llama.cpp's own, which excludes --jinja
        cmd += ["--chat-template", family]
    else:
        cmd += ["--jinja"] + (["--chat-template-file", str(family)] if family is not None else [])
    cmd += ["-fa", srv.flash_attn, "--no-webui"]
    if key_file is not None:
        cmd += ["--api-key-file", str(key_file)]
    if srv.metrics:
        cmd.append("--metrics")
    if srv.gpu_layers >= 0:
        cmd += ["-ngl", str(srv.gpu_layers)]
    elif binary.backend in provision.GPU_BACKENDS:
        cmd += ["-ngl", "all"]
    else:
        cmd += ["-ngl", "0"]
    if info is not None and info.sliding_window:
        cmd.append("--swa-full")  # otherwise llama-server turns prompt-cache reuse off for SWA models
    if srv.cache_reuse > 0:
        cmd += ["--cache-reuse", str(srv.cache_reuse)]
    if srv.threads > 0:
        cmd += ["-t", str(srv.threads)]
    cmd += list(srv.extra_args)
    return cmd


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # as llama-server does: connections of a previous server in TIME_WAIT must not count
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise ServerStartError(f"Cannot use {host}:{port}: {exc.strerror}.",
                                   hint="Check `server.host` and `server.port`.") from exc
    return True


def _pid_alive(pid: int) -> bool:
    """True for a running process (zombies and foreign pids reused since count as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if fields and fields[0] in ("Z", "X"):
                return False
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return False
        return b"llama-server" in cmdline
    return True


class ManagedServer:
    """Start, stop and inspect the llama-server codeassist manages for ``settings``."""

    def __init__(self, settings: Settings, *, state_dir: Path | None = None) -> None:
        self.settings = settings
        self.state_dir = state_dir or paths.state_dir()
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        host = self.settings.server.host
        if host in ("0.0.0.0", "::"):  # listening everywhere: this machine reaches it on loopback
            host = "127.0.0.1" if host == "0.0.0.0" else "::1"
        return f"http://{f'[{host}]' if ':' in host else host}:{self.settings.server.port}"

    def _key_file(self) -> Path | None:
        """The file of keys to start the server with; refuses a non-loopback host without one."""
        srv = self.settings.server
        if srv.api_key_file:
            read_key_file(srv.api_key_file)
            return Path(srv.api_key_file).expanduser().resolve()
        if srv.api_key:
            path = self.state_dir / "server.keys"
            self.state_dir.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600, exist_ok=True)
            path.chmod(0o600)
            path.write_text(srv.api_key + "\n", encoding="utf-8")
            return path
        if not is_loopback(srv.host):
            raise ConfigError(
                f"Refusing to serve the model on {srv.host} without an API key: anyone who can reach "
                "this machine could use it.",
                hint="Pass `--api-key-file FILE` (one key per line; clients set `server.api_key`), or "
                     "listen on 127.0.0.1.", key="server.host")
        return None

    def api_key(self) -> str:
        """The key this machine's clients send to the managed server ("" when it has none)."""
        if self.settings.server.api_key:
            return self.settings.server.api_key
        state = _files.read_json(self.state_file) or {}
        key_file = state.get("api_key_file") or self.settings.server.api_key_file
        if not key_file:
            return ""
        try:
            return read_key_file(str(key_file))[0]
        except ConfigError:
            return ""

    @property
    def state_file(self) -> Path:
        return self.state_dir / "server.json"

    @property
    def log_path(self) -> Path:
        return self.state_dir / "server.log"

    def log_tail(self, lines: int) -> str:
        """The last ``lines`` lines of the server's log ("" when there is none yet)."""
        return _files.tail(self.log_path, lines)

    def _lock(self) -> AbstractContextManager[None]:
        return _files.exclusive_lock(self.state_dir / "server.lock")

    # --- inspection ----------------------------------------------------------------------
    def _alive(self, pid: int) -> bool:
        # a killed multi-threaded process is a zombie before it can be reaped: check both
        if self._proc is not None and self._proc.pid == pid and self._proc.poll() is not None:
            return False
        return _pid_alive(pid)

    def _exited(self, pid: int) -> bool:
        """During start-up: our own child is judged by waitpid alone."""
        if self._proc is not None and self._proc.pid == pid:
            return self._proc.poll() is not None
        return not _pid_alive(pid)

    def is_alive(self) -> bool:
        """Cheap check (no HTTP): is the recorded server process running?"""
        state = _files.read_json(self.state_file)
        return state is not None and self._alive(int(state.get("pid", 0)))

    def status(self) -> ServerStatus:
        state = _files.read_json(self.state_file)
        if state is None:
            return ServerStatus("stopped", self.url, self.log_path)
        pid = int(state.get("pid", 0))
        url = str(state.get("url", self.url))
        common = {"url": url, "log_path": self.log_path, "pid": pid, "model": state.get("model"),
                  "binary": state.get("binary"), "started_at": state.get("started_at"),
                  "command": tuple(state.get("command", ()))}
        if not self._alive(pid):
            return ServerStatus("dead", **common)  # type: ignore[arg-type]
        health = probe_health(url)
        kind: State = "running" if health == "ok" else "starting"
        return ServerStatus(kind, health=health, **common)  # type: ignore[arg-type]

    # --- start / stop --------------------------------------------------------------------
    def start(self, *, wait: bool = True) -> ServerStatus:
        """Start the server (no-op when it already runs); wait until ``/health`` answers ok."""
        with self._lock():
            current = self.status()
            if current.state in ("running", "starting"):
                return self._wait_healthy(current) if wait else current
            if current.state == "dead":
                log.warning("llama-server (pid %s) is gone; starting a new one", current.pid)
                self.state_file.unlink(missing_ok=True)
                self._wait_port_released()
            status = self._spawn()
        return self._wait_healthy(status) if wait else status

    def _spawn(self) -> ServerStatus:
        binary = provision.ensure_server_binary(self.settings)
        model = catalogue.resolve_model_path(self.settings)
        gguf.check_gguf_file(model)
        info = gguf.read_info(model)
        key_file = self._key_file()
        self._check_port()
        cmd = server_command(self.settings, binary, model, info, key_file=key_file)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if self.log_path.exists():
            os.replace(self.log_path, self.log_path.with_name("server.log.1"))
        log.info("starting %s", " ".join(cmd))
        with self.log_path.open("wb") as out:
            try:
                self._proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                              stdin=subprocess.DEVNULL, start_new_session=True)
            except OSError as exc:
                raise ServerStartError(f"Cannot run {binary.path}: {exc.strerror}.",
                                       hint="Rebuild it with `codeassist server build --force`.") from exc
        started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        _files.write_json(self.state_file, {
            "pid": self._proc.pid, "url": self.url, "host": self.settings.server.host,
            "port": self.settings.server.port, "model": str(model), "binary": str(binary.path),
            "backend": binary.backend, "command": cmd, "started_at": started,
            "api_key_file": str(key_file) if key_file else "",
        })
        return ServerStatus("starting", self.url, self.log_path, pid=self._proc.pid, model=str(model),
                            binary=str(binary.path), started_at=started, command=tuple(cmd))

    def _wait_port_released(self, timeout: float = 10.0) -> None:
        """A server that just died may hold its port for a moment while its threads exit."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not _port_free(self.settings.server.host,
                                                             self.settings.server.port):
            time.sleep(0.1)

    def _check_port(self) -> None:
        host, port = self.settings.server.host, self.settings.server.port
        if _port_free(host, port):
            return
        hint = (f"Another program listens on port {port}. Choose a free one with "
                f"`codeassist server start --port N` (or `server.port` in the config)")
        if probe_health(self.url) == "ok":
            hint += f", or use that llama-server as it is with `server.url = \"{self.url}\"`"
        raise ServerStartError(f"Port {port} on {host} is already in use.", hint=hint + ".")

    def _wait_healthy(self, status: ServerStatus) -> ServerStatus:
        assert status.pid is not None
        deadline = time.monotonic() + self.settings.server.startup_timeout
        while time.monotonic() < deadline:
            if self._exited(status.pid):
                self.state_file.unlink(missing_ok=True)
                raise self._start_failure()
            health = probe_health(status.url)
            if health == "ok":
                return ServerStatus("running", status.url, self.log_path, pid=status.pid,
                                    model=status.model, binary=status.binary,
                                    started_at=status.started_at, health=health, command=status.command)
            time.sleep(0.1)
        self.stop()
        raise ServerStartError(
            f"llama-server did not become ready within {self.settings.server.startup_timeout:.0f} s.",
            hint=f"Its log is {self.log_path}. A large model on a slow disk may need a larger "
                 "`server.startup_timeout`.")

    def _start_failure(self) -> ServerStartError:
        text = _files.tail(self.log_path, 40)
        low = text.lower()
        if self._proc is not None and self._proc.returncode == -signal.SIGILL:
            return ServerStartError(
                "llama-server crashed during start-up (illegal instruction).",
                hint="The build may use instructions this CPU or its virtual machine cannot run: "
                     "rebuild it with `codeassist server build --force`. Its log is "
                     f"{self.log_path}.")
        if "bind" in low or "address already in use" in low:
            return ServerStartError(f"llama-server could not listen on port {self.settings.server.port}.",
                                    hint="Another program took the port; choose another with "
                                         "`codeassist server start --port N`.")
        if _model_failed(low):
            return ServerStartError(f"llama-server could not load the model: {_last_error(text)}",
                                    hint="The model file may be damaged or too new for this llama-server; "
                                         "pull it again or choose another with `codeassist model use`.")
        return ServerStartError(f"llama-server exited during start-up: {_last_error(text)}",
                                hint=f"The full log is {self.log_path} (`codeassist server logs`).")

    def stop(self, timeout: float = _STOP_TIMEOUT) -> bool:
        """Stop the managed server. Returns False when none was running."""
        with self._lock():
            state = _files.read_json(self.state_file)
            if state is None:
                return False
            pid = int(state.get("pid", 0))
            was_alive = self._alive(pid)
            if was_alive:
                self._terminate(pid, timeout)
            self.state_file.unlink(missing_ok=True)
            return was_alive

    def _terminate(self, pid: int, timeout: float) -> None:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._alive(pid):
                break
            time.sleep(0.05)
        else:
            log.warning("llama-server (pid %d) ignored SIGTERM; killing it", pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self._proc is not None and self._proc.pid == pid:
            self._proc.wait()
            self._proc = None

    def restart_if_dead(self) -> ServerStatus:
        """Start the server again when its process died (used by :class:`LocalRuntime`)."""
        if self.is_alive():
            return self.status()
        return self.start()


def _model_failed(log: str) -> bool:
    """Whether a start-up log (lower-cased) says the model could not be loaded. The model's
    ``.gguf`` path is in every log, so a line counts only when it also says what failed (GGUF
    parsing, ``failed to load model``...): a server that dies later, allocating its cache, is not
    a bad model file."""
    if "failed to load model" in log or "error loading model" in log:
        return True
    return any("gguf" in line and any(word in line for word in ("fail", "error", "invalid", "corrupt"))
               for line in log.splitlines())


def _last_error(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for line in reversed(lines):
        low = line.lower()
        if "error" in low or "failed" in low:
            return line[-300:]
    return lines[-1][-300:] if lines else "(no output)"

