"""The real `codeassist` executable in a real terminal (tmux): start, ask, see the answer, quit.

Zero configuration: no server URL is given, so `codeassist` starts its managed llama-server with
the offline default model on first use (on a free port, so that parallel runs do not collide), and
an everyday question gets a right answer, with no chat-template markers on the screen.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from codeassist.config import load_settings
from codeassist.runtime import catalogue
from codeassist.runtime.server import ManagedServer
from codeassist.runtime.templates import TURN_MARKERS
from tests.chat.helpers import make_repo
from tests.support.llama import free_port

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Tmux:
    def __init__(self, socket: Path) -> None:
        self.socket = socket

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["tmux", "-S", str(self.socket), *args], capture_output=True, text=True,
                              check=check)

    def screen(self) -> str:
        return self("capture-pane", "-p", "-J", "-t", "chat").stdout

    def wait_for(self, condition: Callable[[str], bool], what: str, timeout: float = 120.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if condition(shown):
                return shown
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}; the screen shows:\n{self.screen()}")


@pytest.mark.timeout(900)  # a real answer from the default model (slow on a crowded machine)
def test_codeassist_starts_answers_and_quits_in_a_terminal(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "shop")
    port = free_port()
    exe = Path(sys.executable).with_name("codeassist")
    env = {name: os.environ[name] for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME")}
    env |= {"CODEASSIST_SERVER_PORT": str(port), "CODEASSIST_CHAT_MAX_TOKENS": "96",
            "CODEASSIST_CHAT_TEMPERATURE": "0", "TERM": "xterm-256color"}
    tmux = Tmux(tmp_path / "tmux.sock")
    env_args = [arg for name, value in env.items() for arg in ("-e", f"{name}={value}")]
    tmux("new-session", "-d", "-s", "chat", "-x", "120", "-y", "40", "-c", str(repo), *env_args, str(exe))
    try:
        tmux.wait_for(lambda s: "codeassist chat in" in s and "Qwen2.5-Coder 0.5B" in s, "the chat screen",
                      timeout=600)
        tmux.wait_for(lambda s: "server ready" in s, "the managed llama-server", timeout=600)
        tmux("send-keys", "-t", "chat", "-l", "How do I reverse a list in Python?")
        tmux("send-keys", "-t", "chat", "Enter")
        shown = tmux.wait_for(lambda s: "answer tokens" in s, "the answer", timeout=600)
        assert f"{catalogue.DEFAULT_MODEL} · route" in shown  # the status line names the model
        assert re.search(r"\[::-1\]|\.reverse\(\)|reversed\(", shown), shown
        assert not [marker for marker in TURN_MARKERS if marker in shown], shown
        tmux("send-keys", "-t", "chat", "C-q")
        deadline = time.monotonic() + 30
        while tmux("has-session", "-t", "chat", check=False).returncode == 0:
            assert time.monotonic() < deadline, "codeassist did not quit on Ctrl+Q"
            time.sleep(0.2)
    finally:
        tmux("kill-server", check=False)
        ManagedServer(load_settings(repo, overrides={"server.port": port})).stop()
