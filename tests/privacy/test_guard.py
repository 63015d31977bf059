"""The one egress point, restoration of edits, bad input, the audit log and --show-request."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from codeassist.claude.datatypes import Prompt
from codeassist.claude.ledger import Ledger
from codeassist.config import PrivacySettings
from codeassist.errors import PrivacyError, UsageError
from codeassist.privacy import GuardedRequest, PrivacyGuard, clean_input, read_for_cloud
from codeassist.refactor import AcceptAll, RefactorOptions, RefactorRunner
from tests.privacy.conftest import MODEL, OUTSIDE_SECRET, SecretRepo, git, stub_settings
from tests.support.anthropic_stub import AnthropicStub, reply
from tests.support.llama import free_port

ROOT = Path(__file__).resolve().parents[2]
EXE = str(Path(sys.executable).with_name("codeassist"))


# -- one egress point -----------------------------------------------------------------------------

def test_only_the_guard_makes_a_sendable_request() -> None:
    with pytest.raises(TypeError, match=r"only by PrivacyGuard\.seal"):
        GuardedRequest(object(), PrivacyGuard(PrivacySettings()), "{}", b"", None)  # type: ignore[arg-type]


def test_an_unguarded_or_altered_request_never_reaches_the_server(
        secret_repo: SecretRepo, anthropic_stub: AnthropicStub, client_for: Any) -> None:
    client = client_for(stub_settings(secret_repo.root, anthropic_stub))
    secret = secret_repo.planted[0].value
    raw = {"messages": [{"role": "user", "content": f"key {secret}"}]}
    sdk = client._client()
    for request in (raw, PrivacyGuard(PrivacySettings()).seal(raw)):  # not sealed / sealed by another guard
        with pytest.raises(PrivacyError, match="did not pass the privacy guard"):
            client._stream_once(sdk, request, {"model": MODEL, "max_tokens": 10}, print, "test")
    sealed = client.guard.seal(raw)
    object.__setattr__(sealed, "_body", json.dumps(raw))  # a bug that swaps the body after sealing
    with pytest.raises(PrivacyError, match="changed after the privacy guard"):
        client._stream_once(sdk, sealed, {"model": MODEL, "max_tokens": 10}, print, "test")
    with pytest.raises(PrivacyError):
        client.count_tokens(sealed)
    assert anthropic_stub.requests == []
    anthropic_stub.script(reply.text("fine"))
    assert client.turn(Prompt.single(f"key {secret}")).text == "fine"  # the real way goes through
    anthropic_stub.assert_not_received(secret)


def test_the_sdk_is_called_only_with_what_the_guard_released() -> None:
    """Every call of ``sdk.messages.*`` in the code base takes its body from ``guard.release``."""
    calls: list[str] = []
    for path in (ROOT / "codeassist").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "messages"
                    and node.func.attr in ("stream", "create", "count_tokens")):
                calls.append(f"{path.relative_to(ROOT)}:{node.func.attr}")
                assert path.name == "client.py", f"{path}: only the Claude client talks to the API"
                starred = [kw.value for kw in node.keywords if kw.arg is None]
                released = starred and isinstance(starred[0], ast.Call) and (
                    (isinstance(starred[0].func, ast.Attribute) and starred[0].func.attr == "release")
                    or isinstance(starred[0].func, ast.Name))
                names = {kw.arg for kw in node.keywords if kw.arg}
                assert released or names <= {"model"}, f"{path}:{node.lineno}: body not from guard.release"
    assert {c.split(":")[1] for c in calls} == {"stream", "count_tokens"}
    source = (ROOT / "codeassist/claude/client.py").read_text()
    assert "params = self.guard.release(request, **extra)" in source


# -- restoration ----------------------------------------------------------------------------------

def test_an_edit_of_a_redacted_line_lands_with_the_real_secret(
        secret_repo: SecretRepo, anthropic_stub: AnthropicStub, client_for: Any) -> None:
    settings = stub_settings(secret_repo.root, anthropic_stub)
    guard = PrivacyGuard.from_settings(settings)
    planted = next(p for p in secret_repo.planted if p.shape == "ini_password")
    line = f"password = {planted.value}"
    shown, _ = guard.redact(line)  # what Claude sees of the line, e.g. password = __REDACTED_PASSWORD_1__
    placeholder = shown.split(" = ")[1]
    assert placeholder.startswith("__REDACTED_") and planted.value not in shown
    anthropic_stub.script(
        reply.tool_use("submit_plan", {"summary": "Rename password to db_password.",
                                       "steps": [{"description": "Rename", "files": ["config/db.ini"]}],
                                       "files_to_change": ["config/db.ini"], "rationale": "Clearer."}),
        reply.edit("view", "config/db.ini"),
        reply.edit("str_replace", "config/db.ini", old_str=f"password = {placeholder}",
                   new_str=f"db_password = {placeholder}  ; renamed"),
        reply.text("Renamed."))
    client = client_for(settings, guard=guard, command="refactor")
    report = RefactorRunner(secret_repo.root, settings, client, None).run(
        "Rename password to db_password in config/db.ini",
        RefactorOptions(yes=True, branch="refactor/rename"), AcceptAll())
    assert report.status == "committed", report.reason
    landed = git(secret_repo.root, "show", "refactor/rename:config/db.ini")
    assert f"db_password = {planted.value}  ; renamed" in landed
    assert placeholder not in landed
    view = anthropic_stub.message_requests[2]["messages"][-1]["content"][0]["content"]
    assert placeholder in view  # the model saw the placeholder, never the value
    echo = anthropic_stub.message_requests[3]["messages"]
    assert f"db_password = {placeholder}" in json.dumps(echo)  # and its own edit comes back redacted
    secret_repo.assert_nothing_leaked(anthropic_stub)


# -- files and input that must not go ------------------------------------------------------------

def test_files_that_must_never_be_read_for_the_cloud(secret_repo: SecretRepo) -> None:
    guard = PrivacyGuard(PrivacySettings())
    root = secret_repo.root
    assert "secret-file pattern" in str(read_for_cloud(guard, root, ".env", named=True).refused)
    assert "outside the repository" in str(read_for_cloud(guard, root, "app/shadow.py", named=True).refused)
    ignored = read_for_cloud(guard, root, "local/settings_local.py", named=False)
    assert "git ignores it" in str(ignored.refused)
    assert read_for_cloud(guard, root, "local/settings_local.py", named=True).refused is None  # named: ok
    (root / "blob.py").write_bytes(b"\x00\x01binary")
    assert "binary" in str(read_for_cloud(guard, root, "blob.py", named=True).refused)
    (root / "huge.py").write_text("x = 1\n" * 900_000)  # 5.4 MB
    huge = read_for_cloud(guard, root, "huge.py", named=True)
    assert len(huge.text) == 200_000 and "5.4 MB" in huge.notes[0] and "first 200,000" in huge.notes[0]
    (root / "latin.py").write_bytes("s = 'caf\xe9'\n".encode("latin-1"))
    latin = read_for_cloud(guard, root, "latin.py", named=True)
    assert "\ufffd" in latin.text and "not valid UTF-8" in latin.notes[0]


def test_piped_input_is_checked_before_it_is_used() -> None:
    with pytest.raises(UsageError, match="looks binary"):
        clean_input(b"\x7fELF\x02\x01\x00\x00", "stdin")
    text, notes = clean_input(b"a" * 1_500_000, "stdin", 1_000_000)
    assert len(text) == 1_000_000 and "longer than 1.0 MB" in notes[0]
    text, notes = clean_input(b"bad \xff byte", "stdin")
    assert text == "bad \ufffd byte" and "not valid UTF-8" in notes[0]


def _ask(repo: Path, stub: AnthropicStub, *args: str,
         stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, **stub.env(), "CODEASSIST_SERVER_URL": f"http://127.0.0.1:{free_port()}",
           "CODEASSIST_INDEX_WORKERS": "1",
           "CODEASSIST_CLAUDE_MODEL": MODEL, "ANTHROPIC_API_KEY": stub.env().get("ANTHROPIC_API_KEY", "x")}
    return subprocess.run([EXE, *args], cwd=repo, input=stdin, capture_output=True, env=env, timeout=120)


def test_binary_and_huge_stdin_never_go_raw(secret_repo: SecretRepo, anthropic_stub: AnthropicStub) -> None:
    done = _ask(secret_repo.root, anthropic_stub, "ask", "--route", "claude", "what is this?",
                stdin=b"\x7fELF\x02\x01\x01\x00\x00\x00" + os.urandom(2000))
    assert done.returncode == 2 and b"looks binary" in done.stderr and b"Traceback" not in done.stderr
    assert anthropic_stub.requests == []
    anthropic_stub.script(reply.text("A long log."))
    done = _ask(secret_repo.root, anthropic_stub, "ask", "--route", "claude", "summarise",
                stdin=b"line of log \xff\n" * 200_000)
    assert done.returncode == 0, done.stderr
    assert b"only its first 1.0 MB were used" in done.stderr and b"not valid UTF-8" in done.stderr
    question = anthropic_stub.message_requests[-1]["messages"][-1]["content"]
    assert len(question) < 1_100_000 and "\ufffd" in question


# -- audit and --show-request ---------------------------------------------------------------------

def test_show_request_prints_the_redacted_payload_and_sends_nothing(
        secret_repo: SecretRepo, anthropic_stub: AnthropicStub) -> None:
    done = _ask(secret_repo.root, anthropic_stub, "ask", "--show-request", "check config/db.ini please")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["model"] == MODEL and body["messages"][-1]["content"] == "check config/db.ini please"
    shown = json.dumps(body)
    assert "config/db.ini" in shown and "__REDACTED_" in shown
    assert not any(s in done.stdout.decode() for s in secret_repo.secrets)
    assert anthropic_stub.requests == [] and b"nothing was sent" in done.stderr
    done = _ask(secret_repo.root, anthropic_stub, "refactor", "--show-request", "--files", "config/db.ini",
                "Rename password to db_password")
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout[done.stdout.index(b"{"):])
    assert "submit_plan" in json.dumps(plan["tools"]) and "__REDACTED_PASSWORD" in json.dumps(plan)
    assert not any(r.path.startswith("/v1/messages") for r in anthropic_stub.requests)
    log = _ask(secret_repo.root, anthropic_stub, "privacy", "log", "--last", "5")
    assert b"shown" in log.stdout and b"not sent" in log.stdout


def test_every_cloud_call_is_audited_redacted(secret_repo: SecretRepo, anthropic_stub: AnthropicStub,
                                              tmp_path: Path) -> None:
    anthropic_stub.script(reply.text("It is an INI file."))
    done = _ask(secret_repo.root, anthropic_stub, "ask", "--route", "claude", "what is in config/db.ini?")
    assert done.returncode == 0, done.stderr
    log = _ask(secret_repo.root, anthropic_stub, "privacy", "log", "--json")
    rows = json.loads(log.stdout)["requests"]
    assert [r["endpoint"] for r in rows] == ["messages"]
    row = rows[0]
    assert row["command"] == "chat" and row["status"] == "ok" and row["input_tokens"] > 0
    assert row["files"] == [["config/db.ini", len(secret_repo.files["config/db.ini"])]]
    assert row["redactions"].get("PASSWORD", 0) >= 1 and len(row["body_sha256"]) == 64
    text = _ask(secret_repo.root, anthropic_stub, "privacy", "log").stdout.decode()
    assert "config/db.ini" in text and "PASSWORD" in text
    db = Path(json.loads(log.stdout)["ledger"])
    raw = db.read_bytes() + b"".join(p.read_bytes() for p in db.parent.glob("ledger.db-*"))
    assert not any(s.encode() in raw for s in secret_repo.secrets)  # no payload is stored
    assert OUTSIDE_SECRET.encode() not in raw
    assert Ledger(db).egress(1)[0].files == (("config/db.ini", len(secret_repo.files["config/db.ini"])),)
