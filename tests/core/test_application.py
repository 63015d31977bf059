"""The composition root: one index policy, one way to report an unusable index, what it builds."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from codeassist.app import Application
from codeassist.config import load_settings
from codeassist.errors import IndexError_


def _repo(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "store.py").write_text("class Store:\n    def fetch(self, key):\n        return key\n")
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    return root


def test_the_index_is_created_then_brought_up_to_date(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    settings = load_settings(repo, overrides={"index.workers": 1}, env={})
    first = Application(settings, repo)
    index = first.open_index()
    assert index is not None and [s.path for s in index.definitions("Store")] == ["pkg/store.py"]
    assert first.open_index(update=False) is index  # opened once
    first.close()
    (repo / "pkg" / "cart.py").write_text("def total(items):\n    return sum(items)\n")
    again = Application(settings, repo)
    reopened = again.open_index()  # the next user of the index sees the change without `codeassist index`
    assert reopened is not None and [s.path for s in reopened.definitions("total")] == ["pkg/cart.py"]
    again.close()


def test_an_unusable_index_is_reported_once_the_same_way_and_the_work_goes_on(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    (repo / ".codeassist").write_text("a file where the index directory should be")
    problems: list[tuple[str, str]] = []
    app = Application(load_settings(repo, env={}), repo,
                      on_problem=lambda key, text: problems.append((key, text)))
    assert app.open_index() is None
    assert problems and problems[0][0] == "index"
    assert problems[0][1].startswith(
        "The repository index is not available (working without it): Cannot create")
    with pytest.raises(IndexError_, match="Cannot create"):  # `codeassist index` itself fails with it
        app.require_index()
    app.close()


def test_no_repository_no_index_and_no_claude_without_a_key(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    app = Application(load_settings(None, env={}), None)
    assert app.root is None and app.open_index() is None
    assert app.claude_if_ready() is None
    offline = Application(load_settings(None, overrides={"privacy.cloud": False}, env={}), None)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key-that-is-never-sent")
    assert offline.claude_if_ready() is None  # offline: never a Claude client


def test_the_tiny_model_is_named_for_a_served_model_too(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, overrides={"server.url": "http://127.0.0.1:9"}, env={})
    app = Application(settings, tmp_path)
    notice = app.notice("gemma-3-270m-it-q4_k_m.gguf")
    assert notice is not None and "tiny demo model (gemma-3-270m-it-q4_k_m.gguf)" in notice
    assert app.notice("qwen2.5-coder-7b-q8_0.gguf") is None
