"""Every path by which text leaves for Claude, with the secret corpus in play.

Each test drives the real product (chat session, `codeassist ask`, the refactor runner) against
the loopback Messages-API server and asserts two things a user sees: none of the planted secret
values arrived in any request (request line, headers, JSON body, JSON escapes undone), and the user
still got an answer.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from contextlib import aclosing
from pathlib import Path
from typing import Any

import pytest

from codeassist.chat.events import Done, Notice
from codeassist.chat.history import History, StoredMessage
from codeassist.chat.session import ChatSession
from codeassist.config import Settings
from codeassist.index import RepoIndex
from codeassist.refactor import AcceptAll, RefactorOptions, RefactorReport, RefactorRunner
from codeassist.runtime import LocalRuntime
from tests.privacy.conftest import MODEL, SecretRepo, stub_settings
from tests.support.anthropic_stub import TEST_API_KEY, AnthropicStub, reply
from tests.support.llama import free_port

EXE = str(Path(sys.executable).with_name("codeassist"))
CORPUS_FILES = sorted({"config/db.ini", "app/settings.py", "deploy/runtime-env.txt", "deploy/kubeconfig",
                       "deploy/gcp-runtime.json", "config/appsettings.json", "scripts/deploy.sh",
                       "Dockerfile", "docker-compose.yml", "config/application.properties",
                       "config/app.yaml", "config/deploy.toml", "web/src/auth.ts", "web/src/github.ts",
                       "app/ai.py", "app/notify.py", "app/bots.py", "app/billing.py", "app/cache.py",
                       "app/sign.py", "web/src/api.js", "web/src/maps.js", "web/src/publish.js",
                       "config/ci.yaml", "config/pip.conf.txt"})
PRIVATE = (".env", "local/settings_local.py", "app/shadow.py")
COMMITTED_PRIVATE = (".env", "app/shadow.py")  # the ignored file is not in any commit


def _all_text(repo: SecretRepo) -> str:
    return "\n\n".join(f"# {path}\n{repo.files[path]}" for path in CORPUS_FILES)


# -- chat ----------------------------------------------------------------------------------------

def _session(repo: SecretRepo, stub: AnthropicStub, client_for: Callable[..., Any],
             history: History | None = None) -> ChatSession:
    settings: Settings = stub_settings(repo.root, stub, **{"server.url": f"http://127.0.0.1:{free_port()}"})
    index = RepoIndex.open(repo.root, settings.index)
    index.update()
    return ChatSession(settings, LocalRuntime(settings), index, client_for(settings, command="chat"),
                       root=repo.root, history=history)


async def _ask(session: ChatSession, text: str) -> tuple[str, list[str]]:
    answer, notices = "", []
    try:
        async with aclosing(session.answer(text, force="claude")) as events:
            async for event in events:
                if isinstance(event, Notice):
                    notices.append(event.text)
                elif isinstance(event, Done):
                    answer = event.text
    finally:
        if session.context.index is not None:
            session.context.index.close()
    return answer, notices


async def chat_question(repo: SecretRepo, stub: AnthropicStub, client_for: Any, tmp: Path) -> str:
    session = _session(repo, stub, client_for)
    answer, _ = await _ask(session, "Why does this configuration fail to load?\n\n" + _all_text(repo))
    return answer


async def chat_added_files(repo: SecretRepo, stub: AnthropicStub, client_for: Any, tmp: Path) -> str:
    session = _session(repo, stub, client_for)
    for rel in [*CORPUS_FILES, ".env", "local/settings_local.py"]:
        session.context.add(rel)
    answer, notices = await _ask(session, "Review the configuration in these files.")
    assert any(".env" in n and "secret-file pattern" in n for n in notices)
    sent = stub.message_requests[-1]["system"][-1]["text"]
    assert "config/db.ini" in sent and "local/settings_local.py" in sent  # named: sent, redacted
    return answer


async def chat_mentioned_paths(repo: SecretRepo, stub: AnthropicStub, client_for: Any, tmp: Path) -> str:
    session = _session(repo, stub, client_for)
    answer, notices = await _ask(session, "Compare app/shadow.py, .env, config/db.ini and "
                                          "deploy/gcp-runtime.json: which one is wrong?")
    assert any("app/shadow.py" in n and "outside the repository" in n for n in notices)
    sent = stub.message_requests[-1]["system"][-1]["text"]
    assert "File deploy/gcp-runtime.json:" in sent and "File config/db.ini:" in sent
    return answer


async def chat_repo_map(repo: SecretRepo, stub: AnthropicStub, client_for: Any, tmp: Path) -> str:
    session = _session(repo, stub, client_for)
    answer, _ = await _ask(session, "Give me an overview of the whole project and its settings modules.")
    assert "Repository map" in stub.message_requests[-1]["system"][-1]["text"]
    return answer


async def chat_resumed_history(repo: SecretRepo, stub: AnthropicStub, client_for: Any, tmp: Path) -> str:
    history = History.open(tmp / "history.db")
    conversation = history.new_conversation(repo.root)
    history.append(conversation, StoredMessage("user", "Here is my config:\n" + _all_text(repo), "local", ""))
    history.append(conversation, StoredMessage("assistant", "It sets:\n" + repo.files["config/db.ini"],
                                               "local", "gemma"))
    session = _session(repo, stub, client_for, history=history)
    assert session.resume(conversation)
    try:
        answer, _ = await _ask(session, "Now, which of those values are wrong?")
    finally:
        history.close()
    assert len(stub.message_requests[-1]["messages"]) == 3
    return answer


# -- ask on the command line ----------------------------------------------------------------------

def _run_ask(repo: SecretRepo, stub: AnthropicStub, stdin: str, *args: str) -> str:
    env = {**os.environ, **stub.env(), "CODEASSIST_SERVER_URL": f"http://127.0.0.1:{free_port()}",
           "CODEASSIST_INDEX_WORKERS": "1",
           "CODEASSIST_CLAUDE_MODEL": MODEL}
    done = subprocess.run([EXE, "ask", "--route", "claude", *args], cwd=repo.root, input=stdin,
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


async def ask_stdin(repo: SecretRepo, stub: AnthropicStub, client_for: Any, tmp: Path) -> str:
    return _run_ask(repo, stub, _all_text(repo), "review this:")


async def ask_stdin_diff(repo: SecretRepo, stub: AnthropicStub, client_for: Any, tmp: Path) -> str:
    diff = subprocess.run(["git", "show", "--format=commit %H%n%n%B", "HEAD"], cwd=repo.root, check=True,
                          capture_output=True, text=True).stdout
    return _run_ask(repo, stub, diff, "write a commit message for this diff:")


# -- refactors -----------------------------------------------------------------------------------

def _refactor(repo: SecretRepo, stub: AnthropicStub, client_for: Any, **options: Any) -> RefactorReport:
    settings = stub_settings(repo.root, stub)
    client = client_for(settings, command="refactor")
    index = RepoIndex.open(repo.root, settings.index)
    index.update()
    try:
        opts = RefactorOptions(**{"yes": True, "branch": "refactor/privacy", **options})
        return RefactorRunner(repo.root, settings, client, index).run(
            "Rename the database password setting to db_password everywhere", opts, AcceptAll())
    finally:
        index.close()


def _plan(files: tuple[str, ...] = ("config/db.ini",)) -> Any:
    return reply.tool_use("submit_plan", {
        "summary": "Rename the setting.", "steps": [{"description": "Rename it", "files": list(files)}],
        "files_to_change": list(files), "rationale": "Clearer names."}, text="Here is the plan.")


async def refactor_context(repo: SecretRepo, stub: AnthropicStub, client_for: Any, tmp: Path) -> str:
    stub.script(_plan())
    report = _refactor(repo, stub, client_for, files=(*CORPUS_FILES, *COMMITTED_PRIVATE), dry_run=True)
    assert report.status == "dry_run" and report.plan is not None
    assert stub.bodies("/v1/messages/count_tokens"), "the pre-flight count was not made"
    context = stub.message_requests[0]["system"][-1]["text"]
    assert "config/db.ini" in context and "app/shadow.py" not in context.split("<files>")[-1]
    return report.plan.summary


async def refactor_view_results(repo: SecretRepo, stub: AnthropicStub, client_for: Any, tmp: Path) -> str:
    stub.script(_plan(), reply.edits(*[("view", path, {}) for path in (*CORPUS_FILES, *PRIVATE)]),
                reply.text("Nothing needs to change."))
    report = _refactor(repo, stub, client_for)
    results = [b for b in stub.message_requests[2]["messages"][-1]["content"] if b["type"] == "tool_result"]
    assert len(results) == len(CORPUS_FILES) + len(PRIVATE)
    refused = [r for r in results if r.get("is_error")]
    assert len(refused) == len(PRIVATE)  # .env, the ignored file's... and the link: refused, not read
    assert report.status == "no_changes"
    return report.reason


async def refactor_error_messages(repo: SecretRepo, stub: AnthropicStub, client_for: Any, tmp: Path) -> str:
    lines = [line for line in repo.files["config/db.ini"].splitlines() if "=" in line]
    stub.script(_plan(), reply.edits(*[("str_replace", "config/db.ini", {"old_str": line + " ;typo",
                                                                           "new_str": line})
                                       for line in lines]),
                reply.text("I could not apply the edits."))
    report = _refactor(repo, stub, client_for)
    results = [b for b in stub.message_requests[2]["messages"][-1]["content"] if b["type"] == "tool_result"]
    assert results and all(r.get("is_error") for r in results)
    return report.reason


async def refactor_test_output(repo: SecretRepo, stub: AnthropicStub, client_for: Any, tmp: Path) -> str:
    stub.script(_plan(("shop/store.py",)),
                reply.edit("str_replace", "shop/store.py", old_str="return self._data.get(key)",
                           new_str="return self._data.get(key, None)"),
                reply.text("Edited."),
                reply.text("I cannot make the tests pass."))
    failing = "cat " + " ".join(CORPUS_FILES) + " ../outside/shadow.py; exit 1"
    report = _refactor(repo, stub, client_for, test_cmd=failing, max_repair_rounds=1)
    assert report.status == "failed" and report.repair_rounds == 1
    repair = stub.message_requests[3]["messages"][-1]["content"]
    assert "exit 1" in str(repair) or "failed" in str(repair).lower()
    return report.reason


PATHS: dict[str, Callable[..., Any]] = {
    "question": chat_question,
    "added_files": chat_added_files,
    "mentioned_paths": chat_mentioned_paths,
    "repo_map": chat_repo_map,
    "resumed_history": chat_resumed_history,
    "stdin": ask_stdin,
    "diff_on_stdin": ask_stdin_diff,
    "refactor_context_and_count_tokens": refactor_context,
    "view_results": refactor_view_results,
    "error_messages": refactor_error_messages,
    "test_output_in_repair": refactor_test_output,
}


@pytest.mark.parametrize("path", list(PATHS))
async def test_no_secret_leaves_by_any_path(path: str, secret_repo: SecretRepo, anthropic_stub: AnthropicStub,
                                            client_for: Any, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", TEST_API_KEY)  # Claude is set up (the chat asks the environment)
    if path.startswith(("question", "added", "mentioned", "repo_map", "resumed", "stdin", "diff")):
        anthropic_stub.script(reply.text("Here is what I found."))
    answer = await PATHS[path](secret_repo, anthropic_stub, client_for, tmp_path)
    assert answer.strip(), "the user got no answer"
    secret_repo.assert_nothing_leaked(anthropic_stub)
