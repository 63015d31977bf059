"""The refactor flow end to end: the real SDK against the loopback Messages API server, real git."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from codeassist.index import RepoIndex
from codeassist.refactor.gitops import TRAILER
from tests.refactor.conftest import (
    STORE,
    Checkout,
    git,
    plan_reply,
    result_text,
    run_refactor,
    swap,
    tool_results,
)
from tests.support.anthropic_stub import AnthropicStub, block, reply

RENAME = "Rename Store.fetch to Store.load in shop/store.py and every caller"


def rename_edits() -> list[object]:
    return [
        reply.edit("view", "shop/store.py", text="Let me look at the store first."),
        reply.edits(
            ("str_replace", "shop/store.py", {"old_str": "    def fetch(self, key):",
                                              "new_str": "    def load(self, key):"}),
            ("str_replace", "/repo/shop/service.py", {"old_str": "    value = store.fetch(item)",
                                                      "new_str": "    value = store.load(item)"}),
            ("str_replace", "tests/test_store.py", {"old_str": 'assert store.fetch("a") == 1',
                                                    "new_str": 'assert store.load("a") == 1'}),
        ),
        reply.text("Renamed `fetch` to `load` in the definition and both callers."),
    ]


def test_three_file_rename_lands_on_a_new_branch(repo: Path, index: RepoIndex,
                                                  anthropic_stub: AnthropicStub) -> None:
    before = Checkout.take(repo)
    anthropic_stub.script(plan_reply(), *rename_edits())

    report = run_refactor(repo, anthropic_stub, RENAME, index)

    assert report.status == "committed", report.reason
    assert report.branch == "refactor/test"
    assert report.plan is not None and report.plan.change == ("shop/store.py", "shop/service.py",
                                                             "tests/test_store.py")
    (commit,) = report.commits
    assert git(repo, "rev-parse", "refactor/test").strip() == commit
    assert git(repo, "rev-parse", f"{commit}^").strip() == before.head  # one commit on top of the base
    assert git(repo, "show", "refactor/test:shop/store.py") == STORE.replace("def fetch(", "def load(")
    assert "store.load(item)" in git(repo, "show", "refactor/test:shop/service.py")
    assert 'store.load("a")' in git(repo, "show", "refactor/test:tests/test_store.py")
    changed = git(repo, "diff", "--name-only", f"{before.head}..refactor/test").split()
    assert changed == ["shop/service.py", "shop/store.py", "tests/test_store.py"]
    message = git(repo, "log", "-1", "--format=%B", "refactor/test")
    assert message.startswith("refactor: Rename Store.fetch to Store.load") and TRAILER in message
    assert "3 files changed, 3 insertions(+), 3 deletions(-)" in report.diffstat
    assert {f.path: f.status for f in report.files} == dict.fromkeys(changed, "modified")
    assert report.usage.calls == 4 and report.usage.input_tokens > 0 and report.usage.cost_usd > 0
    # the user's uncommitted work is exactly as it was; the base of the branch is HEAD, not the dirty tree
    before.assert_same_checkout(repo)
    assert "work in progress" not in git(repo, "show", "refactor/test:README.md")
    # what Claude got: the text editor tool, the view result with line numbers, no refused edit
    bodies = anthropic_stub.message_requests
    assert {"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"}.items() <= \
        bodies[1]["tools"][1].items()
    (view,) = tool_results(bodies[2])
    assert "    11\t    def fetch(self, key):" in result_text(view)
    assert [b.get("is_error", False) for b in tool_results(bodies[3])] == [False, False, False]
    assert anthropic_stub.pending == 0
    # one stable prefix for every turn (tools, system text, repo map and files): the cache serves it
    assert all(b["tools"] == bodies[0]["tools"] and b["system"] == bodies[0]["system"] for b in bodies)
    assert bodies[0]["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert "<repository_map>" in bodies[0]["system"][-1]["text"]
    assert '<file path="shop/store.py">' in bodies[0]["system"][-1]["text"]


def test_whitespace_drifted_old_text_is_applied_once_and_reported(repo: Path, index: RepoIndex,
                                                                  anthropic_stub: AnthropicStub) -> None:
    before = Checkout.take(repo)
    # 4 spaces short, trailing blanks
    drifted_old = "def fetch(self, key):   \n    return self._data.get(key)\n"
    drifted_new = "def fetch(self, key, default=None):\n    return self._data.get(key, default)\n"
    anthropic_stub.script(
        plan_reply("Give Store.fetch a default.", ("shop/store.py",)),
        reply.edit("str_replace", "shop/store.py", old_str=drifted_old, new_str=drifted_new),
        reply.text("Done."),
    )

    report = run_refactor(repo, anthropic_stub, "Give Store.fetch a default argument", index)

    assert report.status == "committed", report.reason
    expected = STORE.replace("    def fetch(self, key):\n        return self._data.get(key)\n",
                             "    def fetch(self, key, default=None):\n"
                             "        return self._data.get(key, default)\n")
    assert git(repo, "show", "refactor/test:shop/store.py") == expected
    (note,) = report.notes
    assert (note.path, note.line) == ("shop/store.py", 11) and "whitespace" in note.message
    (result,) = tool_results(anthropic_stub.message_requests[2])
    assert not result.get("is_error") and "whitespace-tolerant match at line 11" in result_text(result)
    before.assert_same_checkout(repo)


def test_non_unique_match_is_refused_with_the_places(repo: Path, index: RepoIndex,
                                                     anthropic_stub: AnthropicStub) -> None:
    before = Checkout.take(repo)
    anthropic_stub.script(
        plan_reply("Make total() skip unknown items.", ("shop/service.py",)),
        # "store: Store, " occurs in both functions: refused, the model then gives more context
        reply.edit("str_replace", "shop/service.py", old_str="(store: Store, ",
                   new_str="(store: Store | None, "),
        reply.edit("str_replace", "shop/service.py", old_str="def total(store: Store, ",
                   new_str="def total(store: Store | None, "),
        reply.text("Done."),
    )

    report = run_refactor(repo, anthropic_stub, "Let total accept a missing store", index)

    refused, accepted = (tool_results(b)[0] for b in anthropic_stub.message_requests[2:4])
    assert refused["is_error"] is True
    assert result_text(refused) == (
        "No replacement was performed: `old_str` matches 2 places in shop/service.py (lines 4, 9). "
        "Include more surrounding lines in `old_str` so that it matches exactly one place.")
    assert not accepted.get("is_error")
    assert report.status == "committed"
    service = git(repo, "show", "refactor/test:shop/service.py")
    assert "def total(store: Store | None, " in service and "def price_of(store: Store, " in service
    before.assert_same_checkout(repo)


def test_paths_outside_the_repository_or_in_git_are_refused(repo: Path, index: RepoIndex,
                                                            anthropic_stub: AnthropicStub,
                                                            tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me\n")
    (repo / "link").symlink_to(tmp_path)  # a symlink leading out, committed at the base
    git(repo, "add", "link")
    git(repo, "commit", "-q", "-m", "add link")
    before = Checkout.take(repo)
    attempts = [
        ("create", "../evil.py", {"file_text": "boom\n"}),
        ("create", "/tmp/evil.py", {"file_text": "boom\n"}),
        ("str_replace", str(outside), {"old_str": "keep", "new_str": "lost"}),
        ("create", ".git/hooks/pre-commit", {"file_text": "#!/bin/sh\nexit 1\n"}),
        ("str_replace", "/repo/.git/config", {"old_str": "[core]", "new_str": "[evil]"}),
        ("create", "shop/../../escape.py", {"file_text": "x\n"}),
        ("str_replace", "link/outside.txt", {"old_str": "keep", "new_str": "lost"}),
        ("view", "/etc/passwd", {}),
    ]
    anthropic_stub.script(plan_reply("Poke around.", ("shop/store.py",)), reply.edits(*attempts),
                          reply.text("I could not change anything."))

    report = run_refactor(repo, anthropic_stub, "Harden the repository", index)

    results = tool_results(anthropic_stub.message_requests[2])
    assert len(results) == len(attempts)
    assert all(r["is_error"] is True and result_text(r).startswith("Refused:") for r in results)
    assert "is outside the repository" in result_text(results[0])
    assert "inside `.git`" in result_text(results[3])
    assert "through a symbolic link" in result_text(results[6])
    assert report.status == "no_changes" and report.branch is None
    assert outside.read_text() == "keep me\n"
    assert not (tmp_path / "evil.py").exists() and not (repo.parent / "escape.py").exists()
    assert not Path("/tmp/evil.py").exists()
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()
    assert "[core]" in (repo / ".git" / "config").read_text()
    before.assert_untouched(repo)


def test_broken_syntax_is_sent_back_and_repaired(repo: Path, index: RepoIndex,
                                                 anthropic_stub: AnthropicStub) -> None:
    before = Checkout.take(repo)
    anthropic_stub.script(
        plan_reply(),
        reply.edits(
            ("str_replace", "shop/store.py", {"old_str": "    def fetch(self, key):",
                                              "new_str": "    def load(self, key)"}),  # colon lost
            swap("shop/service.py"),
            swap("tests/test_store.py"),
        ),
        reply.text("Done."),
        reply.edit("str_replace", "shop/store.py", old_str="    def load(self, key)\n",
                   new_str="    def load(self, key):\n"),
        reply.text("Fixed the missing colon."),
    )

    report = run_refactor(repo, anthropic_stub, RENAME, index)

    assert report.status == "committed", report.failures
    assert report.repair_rounds == 1
    repair = anthropic_stub.message_requests[3]["messages"][-1]["content"]
    text = repair if isinstance(repair, str) else "".join(b.get("text", "") for b in repair)
    assert "repair round 1 of 3" in text
    assert "shop/store.py no longer parses as python" in text
    assert git(repo, "show", "refactor/test:shop/store.py") == STORE.replace("def fetch(", "def load(")
    before.assert_same_checkout(repo)


def test_leftover_references_fail_and_nothing_is_committed(repo: Path, index: RepoIndex,
                                                           anthropic_stub: AnthropicStub) -> None:
    before = Checkout.take(repo)
    lazy = reply.text("Done.")
    anthropic_stub.script(
        plan_reply(),
        reply.edit("str_replace", "shop/store.py", old_str="def fetch(", new_str="def load("),
        lazy, reply.text("Done."), reply.text("Done."), reply.text("Done."),  # never fixes the callers
    )

    report = run_refactor(repo, anthropic_stub, RENAME, index)

    assert report.status == "failed" and report.branch is None and report.commits == []
    assert report.repair_rounds == 3
    assert "after 3 repair rounds" in report.reason
    (failure,) = report.failures
    assert failure.startswith("`fetch` was renamed or removed, but it is still referenced at ")
    assert "shop/service.py:5:" in failure and "tests/test_store.py:7:" in failure
    before.assert_untouched(repo)


def test_failing_test_command_is_sent_back_and_repaired(repo: Path, index: RepoIndex,
                                                        anthropic_stub: AnthropicStub) -> None:
    before = Checkout.take(repo)
    check = (f"{shlex.quote(sys.executable)} -c \"from shop.store import Store; s = Store(); "
             "assert s.fetch('missing', 5) == 5, 'no default'\"")
    anthropic_stub.script(
        plan_reply("Give Store.fetch a default.", ("shop/store.py",)),
        reply.edit("str_replace", "shop/store.py", old_str="    def fetch(self, key):\n",
                   new_str="    def fetch(self, key, default=None):\n"),  # forgets to use it
        reply.text("Done."),
        reply.edit("str_replace", "shop/store.py", old_str="        return self._data.get(key)\n",
                   new_str="        return self._data.get(key, default)\n"),
        reply.text("Now the default is returned."),
    )

    report = run_refactor(repo, anthropic_stub, "Give Store.fetch a default argument", index, test_cmd=check)

    assert report.status == "committed", report.failures
    assert report.repair_rounds == 1 and report.failures == []
    repair = anthropic_stub.message_requests[3]["messages"][-1]["content"]
    text = repair if isinstance(repair, str) else "".join(b.get("text", "") for b in repair)
    assert "failed (exit 1)" in text and "AssertionError: no default" in text
    assert "return self._data.get(key, default)" in git(repo, "show", "refactor/test:shop/store.py")
    before.assert_same_checkout(repo)


def test_moving_a_module_creates_and_deletes_files(repo: Path, index: RepoIndex,
                                                   anthropic_stub: AnthropicStub) -> None:
    before = Checkout.take(repo)
    service = git(repo, "show", "HEAD:shop/service.py")
    anthropic_stub.script(
        plan_reply("Move shop/service.py to shop/pricing.py.", ("shop/service.py",)),
        reply.message(
            block.tool_use("str_replace_based_edit_tool",
                           {"command": "create", "path": "shop/pricing.py", "file_text": service}),
            block.tool_use("delete_file", {"path": "shop/service.py"}),
        ),
        reply.text("Moved."),
    )

    report = run_refactor(repo, anthropic_stub, "Move shop/service.py to shop/pricing.py", index)

    assert report.status == "committed", report.failures
    assert {f.path: f.status for f in report.files} == {"shop/pricing.py": "created",
                                                         "shop/service.py": "deleted"}
    tree = git(repo, "ls-tree", "-r", "--name-only", "refactor/test").split()
    assert "shop/pricing.py" in tree and "shop/service.py" not in tree
    assert git(repo, "show", "refactor/test:shop/pricing.py") == service
    before.assert_same_checkout(repo)
