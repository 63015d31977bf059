"""The privacy guard: secret files, secret strings, restore, offline refusal — checked at the server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from codeassist.claude.client import ClaudeClient
from codeassist.claude.datatypes import TEXT_EDITOR_TOOL, Prompt, Reply
from codeassist.claude.privacy import PrivacyGuard
from codeassist.config import PrivacySettings, load_settings
from codeassist.errors import PrivacyError
from tests.support.anthropic_stub import AnthropicStub, reply

MakeClient = Callable[..., ClaudeClient]

# (label, text containing the secret, the secret itself)
SECRETS = [
    ("aws access key", 'AWS_ACCESS_KEY_ID = "AKIAZ7QX3M5BLEXAMPLE"', "AKIAZ7QX3M5BLEXAMPLE"),
    ("aws secret", 'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"',
     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"),
    ("github token", "token: ghp_R2d2C3poX8wingsAbcdEfghIjklMnopQrstUv",
     "ghp_R2d2C3poX8wingsAbcdEfghIjklMnopQrstUv"),
    ("github fine-grained", "GH=github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123",
     "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123"),
    ("anthropic key", "client = Anthropic(api_key='sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Jh1Gf0-AAAA')",
     "sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Jh1Gf0-AAAA"),
    ("openai key", "OPENAI_API_KEY=sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56",
     "sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56"),
    ("slack bot token", 'SLACK = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrSt"',
     "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrSt"),
    ("slack webhook", "hook = 'https://hooks.slack.com/services/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'",
     "https://hooks.slack.com/services/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"),
    ("stripe key", "stripe.api_key = 'sk_live_51HxYzAbCdEfGhIjKlMnOpQr'", "sk_live_51HxYzAbCdEfGhIjKlMnOpQr"),
    ("google api key", "key=AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW",
     "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW"),
    ("jwt", "Authorization: Bearer "
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
     "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"),
    ("url password", 'DATABASE_URL = "postgres://app:S3cr3t-Pa55@db.internal:5432/prod"', "S3cr3t-Pa55"),
    ("password assignment", 'password = "hunter2!"', "hunter2!"),
    ("json password", '{"user": "admin", "passwd": "Tr0ub4dor&3"}', "Tr0ub4dor&3"),
    ("env secret", "export DJANGO_SECRET_KEY=9f8e7d6c5b4a39281706f5e4d3c2b1a0",
     "9f8e7d6c5b4a39281706f5e4d3c2b1a0"),
    ("yaml token", "  auth_token: 'q7W9e2R4t6Y8u1I3o5P7a9S2d4F6g8H0'", "q7W9e2R4t6Y8u1I3o5P7a9S2d4F6g8H0"),
]
PRIVATE_KEY = """-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACBhbm90aGVyIGZha2Uga2V5IGZvciB0ZXN0cyBvbmx5AAAAAAAAAAAAAAAA
-----END OPENSSH PRIVATE KEY-----"""
# Ordinary code that must pass through untouched.
HARMLESS = [
    'password = os.environ["DB_PASSWORD"]',
    'password=os.environ["DB_PASSWORD"]',
    "TOKEN=$(cat /run/secrets/token)",
    "def check_password(password: str) -> bool:",
    'TOKEN_TYPE = "access_token"',
    'api_key = "${API_KEY}"',
    'secret = "<your secret here>"',
    "url = f'https://{host}:{port}/api'",
    "git clone https://github.com/example/project.git",
    'password = ""',
    'TOKEN_ENDPOINT = "/v1/oauth/token"',
    'OAUTH_BETA_HEADER = "oauth-2025-04-20"',
    'cache_key = "user_profile_settings_v2"',
]


@pytest.fixture
def guard() -> PrivacyGuard:
    return PrivacyGuard(PrivacySettings())


@pytest.mark.parametrize(("label", "text", "secret"), SECRETS, ids=[s[0] for s in SECRETS])
def test_each_kind_of_secret_is_redacted_and_restored(guard: PrivacyGuard, label: str, text: str,
                                                      secret: str) -> None:
    redacted, found = guard.redact(text)
    assert secret not in redacted, label
    assert len(found) >= 1 and "__REDACTED_" in redacted
    assert guard.restore(redacted) == text


def test_private_key_block_is_redacted_whole(guard: PrivacyGuard) -> None:
    text = f"KEY = '''\n{PRIVATE_KEY}\n'''\n"
    redacted, found = guard.redact(text)
    assert found.kinds() == {"PRIVATE_KEY": 1}
    assert "b3BlbnNzaC1rZXktdjEAAAAABG5vbmU" not in redacted and "BEGIN" not in redacted
    assert guard.restore(redacted) == text


@pytest.mark.parametrize("text", HARMLESS)
def test_ordinary_code_is_left_alone(guard: PrivacyGuard, text: str) -> None:
    assert guard.redact(text) == (text, guard.redact(text)[1])
    assert not guard.redact(text)[1]


def test_same_secret_same_placeholder_and_repr_hides_values(guard: PrivacyGuard) -> None:
    a, found = guard.redact('password = "hunter2!"\nother_password = "hunter2!"')
    b, _ = guard.redact('login(password="hunter2!")')
    placeholder = found.items[0].placeholder
    assert a.count(placeholder) == 2 and placeholder in b
    assert "hunter2" not in repr(found)


def test_redaction_can_be_switched_off() -> None:
    text = 'password = "hunter2!"'
    assert PrivacyGuard(PrivacySettings(redact=False)).redact(text)[0] == text


@pytest.mark.parametrize("path", [".env", "config/.env.production", "deploy/server.pem", "home/.ssh/id_rsa",
                                  "id_ed25519.pub", "secrets.yaml", ".aws/credentials",
                                  "gcp/service-account-prod.json", "keys/app.KEY", ".npmrc"])
def test_secret_files_are_not_allowed(guard: PrivacyGuard, path: str) -> None:
    assert not guard.allowed(path)
    assert not guard.allowed(Path("/repo") / path)


@pytest.mark.parametrize("path", ["src/app.py", "env.py", "docs/credentials_guide.md", "README.md",
                                  "src/keyboard.rs", "secrets_manager/client.go"])
def test_ordinary_files_are_allowed(guard: PrivacyGuard, path: str) -> None:
    assert guard.allowed(path)


def test_secret_globs_are_configurable(tmp_path: Path) -> None:
    (tmp_path / ".codeassist.toml").write_text('[privacy]\nsecret_globs = ["*.secret", "vault/*"]\n')
    guard = PrivacyGuard(load_settings(tmp_path, env={}).privacy)
    assert not guard.allowed("x.secret") and not guard.allowed("vault/db.txt")
    assert guard.allowed(".env")  # the list was replaced


def test_secrets_corpus_never_reaches_the_server(anthropic_stub: AnthropicStub,
                                                 make_client: MakeClient) -> None:
    corpus = "\n".join(text for _, text, _ in SECRETS) + "\n" + PRIVATE_KEY
    secrets = [secret for _, _, secret in SECRETS] + ["b3BlbnNzaC1rZXktdjEAAAAABG5vbmU"]
    client = make_client()  # with the default cost limit: count_tokens runs first
    anthropic_stub.script(
        reply.edit("view", "settings.py"),
        reply.text("Nothing to change."),
    )
    messages: list[dict[str, object]] = [{"role": "user", "content": f"Tidy this file:\n{corpus}"}]
    first = client.turn(Prompt(messages=messages, system="You edit code.", context=f"repo map\n{corpus}",
                               tools=[TEXT_EDITOR_TOOL]))
    messages += [first.as_message(), {"role": "user", "content": [
        Reply.tool_result(first.tool_uses[0].id, corpus), {"type": "text", "text": corpus}]}]
    client.turn(Prompt(messages=messages, system="You edit code.", context=f"repo map\n{corpus}",
                       tools=[TEXT_EDITOR_TOOL]))
    assert len(anthropic_stub.bodies("/v1/messages/count_tokens")) == 2
    assert len(anthropic_stub.message_requests) == 2
    anthropic_stub.assert_not_received(*secrets)
    assert "__REDACTED_" in anthropic_stub.received_text()


def test_placeholders_in_claude_edits_are_restored_locally(anthropic_stub: AnthropicStub,
                                                           make_client: MakeClient) -> None:
    source = 'DB = "postgres://app:S3cr3t-Pa55@db:5432/prod"\nTIMEOUT = 5\n'
    client = make_client(max_cost=float("inf"))
    redacted, _ = client.guard.redact(source)  # what Claude sees (same guard, same placeholders)
    placeholder = redacted.split("app:")[1].split("@")[0]
    new_line = f'DB = "postgres://app:{placeholder}@db:5433/prod"'
    anthropic_stub.script(reply.edit("str_replace", "settings.py",
                                     text=f"Use port 5433 ({placeholder} kept).",
                                     old_str=redacted.splitlines()[0], new_str=new_line))
    deltas: list[str] = []
    result = client.turn(Prompt(messages=[{"role": "user", "content": source}], tools=[TEXT_EDITOR_TOOL]),
                         on_text=deltas.append)
    edit = result.tool_uses[0].input
    assert edit["old_str"] == source.splitlines()[0]
    assert edit["new_str"] == 'DB = "postgres://app:S3cr3t-Pa55@db:5433/prod"'
    assert result.text == "Use port 5433 (S3cr3t-Pa55 kept)." == "".join(deltas)
    anthropic_stub.assert_not_received("S3cr3t-Pa55")


@pytest.mark.parametrize("how", ["setting", "env"])
def test_offline_refuses_before_anything_is_sent(anthropic_stub: AnthropicStub, tmp_path: Path,
                                                 ledger: object, how: str) -> None:
    overrides = {**anthropic_stub.overrides(), **({"privacy.cloud": False} if how == "setting" else {})}
    env = {"CODEASSIST_OFFLINE": "1"} if how == "env" else {}
    settings = load_settings(tmp_path, overrides=overrides, env=env)
    client = ClaudeClient(settings, ledger, api_key="unused")  # type: ignore[arg-type]
    anthropic_stub.script(reply.text("unused"))
    for call in (lambda: client.turn(Prompt.single("hi")), client.resolve_model,
                 lambda: client.estimate(Prompt.single("hi"))):
        with pytest.raises(PrivacyError, match="Cloud calls are switched off") as err:
            call()
        assert "--local" in str(err.value)
    assert anthropic_stub.requests == []


def test_offline_without_a_key_still_says_offline(anthropic_stub: AnthropicStub, tmp_path: Path,
                                                   ledger: object) -> None:
    settings = load_settings(tmp_path, overrides={"privacy.cloud": False}, env={})
    with pytest.raises(PrivacyError):
        ClaudeClient(settings, ledger).turn(Prompt.single("hi"))  # type: ignore[arg-type]


def test_the_server_side_check_catches_a_leak(anthropic_stub: AnthropicStub, make_client: MakeClient) -> None:
    # With redaction off the secret does arrive, and the server-side check says so.
    anthropic_stub.script(reply.text("ok"))
    make_client(privacy__redact=False, max_cost=float("inf")).turn(Prompt.single('password = "hunter2!"'))
    with pytest.raises(AssertionError, match="hunter2!"):
        anthropic_stub.assert_not_received("hunter2!")


def test_restored_secrets_in_the_history_are_redacted_again(anthropic_stub: AnthropicStub,
                                                            make_client: MakeClient) -> None:
    # Claude's own earlier edit (restored locally to the real value) goes back redacted.
    created = {"command": "create", "path": "cfg.py",
               "file_text": 'API_TOKEN = "ghp_R2d2C3poX8wingsAbcdEfghIjklMnopQrstUv"\n'}
    history = [
        {"role": "user", "content": "add the token"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1",
                                           "name": "str_replace_based_edit_tool", "input": created}]},
        {"role": "user", "content": [Reply.tool_result("toolu_1", "Created cfg.py.")]},
    ]
    anthropic_stub.script(reply.text("Done."))
    make_client(max_cost=float("inf")).turn(Prompt(messages=history, tools=[TEXT_EDITOR_TOOL]))
    anthropic_stub.assert_not_received("ghp_R2d2C3poX8wingsAbcdEfghIjklMnopQrstUv")
    sent = anthropic_stub.message_requests[0]["messages"][1]["content"][0]["input"]["file_text"]
    assert sent.startswith('API_TOKEN = "__REDACTED_GITHUB_TOKEN_')
