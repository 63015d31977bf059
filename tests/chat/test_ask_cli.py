"""`codeassist ask` as a script would use it: the real executable, the real llama-server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.chat.helpers import make_repo
from tests.support.anthropic_stub import AnthropicStub, reply
from tests.support.llama import LlamaServerInfo, free_port

EXE = str(Path(sys.executable).with_name("codeassist"))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "shop")


def run(repo: Path, url: str, *args: str, stdin: str = "",
        extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CODEASSIST_SERVER_URL": url, "CODEASSIST_MODEL": "gemma3-270m-tiny",
           "CODEASSIST_CHAT_MAX_TOKENS": "16", **(extra_env or {})}
    return subprocess.run([EXE, *args], cwd=repo, input=stdin, capture_output=True, text=True, env=env,
                          timeout=120)


def test_ask_prints_the_answer_and_who_answered(repo: Path, llama_server: LlamaServerInfo) -> None:
    done = run(repo, llama_server.url, "ask", "what does Store.fetch return?")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
    assert "[gemma3-270m-tiny (local) — a quick question" in done.stderr
    assert "answer tokens" in done.stderr


def test_ask_reads_piped_stdin(repo: Path, llama_server: LlamaServerInfo) -> None:
    done = run(repo, llama_server.url, "ask", "-q", "explain this:", stdin="def add(a, b): return a + b\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() and done.stderr == ""


def test_piped_stdin_goes_with_the_question(repo: Path, llama_server: LlamaServerInfo,
                                           anthropic_stub: AnthropicStub) -> None:
    anthropic_stub.script(reply.text("Looks fine."))
    done = run(repo, llama_server.url, "ask", "--route", "claude", "review this:",
               stdin="def add(a, b): return a + b\n",
               extra_env={**anthropic_stub.env(), "CODEASSIST_CLAUDE_MODEL": "claude-sonnet-4-6"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Looks fine."
    question = anthropic_stub.message_requests[-1]["messages"][-1]["content"]
    assert question == "review this:\n\ndef add(a, b): return a + b"


def test_ask_without_a_question_is_a_usage_error(repo: Path, llama_server: LlamaServerInfo) -> None:
    done = run(repo, llama_server.url, "ask")
    assert done.returncode == 2
    assert "No question given." in done.stderr and "Traceback" not in done.stderr


def test_ask_with_the_server_down_says_so(repo: Path) -> None:
    done = run(repo, f"http://127.0.0.1:{free_port()}", "ask", "hello?")
    assert done.returncode == 4
    assert "Cannot reach llama-server" in done.stderr and "Traceback" not in done.stderr
