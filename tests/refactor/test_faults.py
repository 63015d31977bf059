"""Faults of the API while a refactor runs: the checkout never moves, nothing half-made remains."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeassist.errors import CloudResponseError, CloudUnavailableError
from codeassist.index import RepoIndex
from tests.refactor.conftest import (
    Checkout,
    git,
    make_repo,
    plan_reply,
    result_text,
    run_refactor,
    swap,
    tool_results,
)
from tests.support.anthropic_stub import AnthropicStub, reply

RENAME = "Rename Store.fetch to Store.load"
EDIT_STORE = reply.edit("str_replace", "shop/store.py", old_str="def fetch(", new_str="def load(")


def test_429_then_success(repo: Path, index: RepoIndex, anthropic_stub: AnthropicStub) -> None:
    before = Checkout.take(repo)
    anthropic_stub.script(
        reply.error(429, retry_after=0), plan_reply(),
        reply.error(429, retry_after=0), EDIT_STORE,
        reply.edits(swap("shop/service.py"),
                    swap("tests/test_store.py")),
        reply.text("Done."),
    )

    report = run_refactor(repo, anthropic_stub, RENAME, index)

    assert report.status == "committed", report.reason
    assert len(anthropic_stub.message_requests) == 6  # two of them answered 429 and were retried
    assert "def load(self, key):" in git(repo, "show", "refactor/test:shop/store.py")
    before.assert_same_checkout(repo)


def test_529_every_time_stops_with_nothing_created(repo: Path, index: RepoIndex,
                                                   anthropic_stub: AnthropicStub) -> None:
    before = Checkout.take(repo)
    # the plan succeeds; every edit turn is overloaded (1 try + 2 retries), after the worktree exists
    anthropic_stub.script(plan_reply(), *[reply.error(529) for _ in range(3)])

    with pytest.raises(CloudUnavailableError, match="still after 3 attempts"):
        run_refactor(repo, anthropic_stub, RENAME, index)

    assert anthropic_stub.pending == 0
    before.assert_untouched(repo)


def test_truncated_stream_mid_edit_discards_the_worktree(repo: Path, index: RepoIndex,
                                                         anthropic_stub: AnthropicStub) -> None:
    before = Checkout.take(repo)
    anthropic_stub.script(
        plan_reply(), EDIT_STORE,  # one edit applied in the worktree...
        reply.truncated("Now the callers: I will replace store.fetch(item) with"),  # ...then the stream dies
    )

    with pytest.raises(CloudResponseError, match="cut off mid-stream"):
        run_refactor(repo, anthropic_stub, RENAME, index)

    before.assert_untouched(repo)


def test_secrets_never_reach_the_api_and_edits_keep_the_real_values(tmp_path: Path,
                                                                    anthropic_stub: AnthropicStub) -> None:
    repo = make_repo(tmp_path)
    aws = "AKIAIOSFODNN7EXAMPLE"
    github = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    password = "hunter2-Very-Secret"
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7secretbody\n-----END RSA PRIVATE KEY-----\n"
    (repo / ".env").write_text(f"AWS_ACCESS_KEY_ID={aws}\n")
    (repo / "deploy").mkdir()
    (repo / "deploy" / "server.pem").write_text(pem)
    (repo / "shop" / "settings.py").write_text(
        f'API_TOKEN = "{github}"\nDATABASE_URL = "postgres://shop:{password}@db/shop"\nTIMEOUT = 10\n')
    git(repo, "add", "-f", ".env", "deploy/server.pem", "shop/settings.py")
    git(repo, "commit", "-q", "-m", "settings")
    with RepoIndex.open(repo) as index:
        index.update()
        before = Checkout.take(repo)
        anthropic_stub.script(
            plan_reply("Raise the timeout.", ("shop/settings.py",)),
            reply.edits(("view", ".env", {}), ("view", "deploy/server.pem", {}), ("view", "deploy", {}),
                        ("view", "shop/settings.py", {})),
            # the model only ever saw the placeholder; the file must get the real token back
            reply.edit("str_replace", "shop/settings.py",
                       old_str='API_TOKEN = "__REDACTED_GITHUB_TOKEN_1__"\n',
                       new_str='API_TOKEN = "__REDACTED_GITHUB_TOKEN_1__"  # rotated yearly\n'),
            reply.text("Done."),
        )

        report = run_refactor(repo, anthropic_stub, "Document API_TOKEN in shop/settings.py and .env",
                              index, files=("shop/settings.py", "deploy/server.pem"))

    anthropic_stub.assert_not_received(aws, github, password, "MIIEowIBAAKCAQEA7secretbody")
    views = tool_results(anthropic_stub.message_requests[2])
    assert [v.get("is_error", False) for v in views] == [True, True, False, False]
    assert "private file" in result_text(views[0]) and "private file" in result_text(views[1])
    assert "server.pem" not in result_text(views[2])
    assert "__REDACTED_GITHUB_TOKEN_1__" in anthropic_stub.received_text()
    assert report.status == "committed", report.reason
    settings = git(repo, "show", "refactor/test:shop/settings.py")
    assert f'API_TOKEN = "{github}"  # rotated yearly\n' in settings
    assert "__REDACTED" not in settings
    before.assert_same_checkout(repo)
