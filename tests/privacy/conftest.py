"""A real git repository of a small project with the secret corpus planted in its files.

Besides the corpus files it holds: a `.env` file (a secret-file pattern), a git-ignored local
settings file, and `app/shadow.py`, a symbolic link to a file outside the repository. Every value
that must never reach the Messages API is in ``SecretRepo.secrets``.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from codeassist.claude.client import ClaudeClient
from codeassist.claude.ledger import Ledger
from codeassist.config import Settings, load_settings
from tests.privacy.corpus import Planted, build
from tests.support.anthropic_stub import TEST_API_KEY, AnthropicStub

MODEL = "claude-sonnet-4-6"
OUTSIDE_SECRET = "Outside-Root-Pa55word-7f3a9c1e"
ENV_SECRET = "EnvFile-Only-Secret-4b8d2e6f1a"
IGNORED_SECRET = "Ignored-Local-Secret-9c2e7a4b5d"

STORE = '''"""Key-value storage."""


class Store:
    def __init__(self):
        self._data = {}

    def put(self, key, value):
        self._data[key] = value

    def fetch(self, key):
        return self._data.get(key)
'''


@dataclass
class SecretRepo:
    root: Path
    files: dict[str, str]
    planted: list[Planted]

    @property
    def secrets(self) -> list[str]:
        """Every secret value (each line of a multi-line key on its own), plus the three file-level ones."""
        out = [OUTSIDE_SECRET, ENV_SECRET, IGNORED_SECRET]
        for p in self.planted:
            lines = p.value.replace("\\n", "\n").split("\n")
            out += [x for x in lines if len(x) >= 8 and not x.startswith("-----")] or [p.value]
        return out

    def assert_nothing_leaked(self, stub: AnthropicStub) -> None:
        assert stub.requests, "no request reached the server"
        stub.assert_not_received(*self.secrets)
        escaped = [json.dumps(s)[1:-1] for s in self.secrets]
        stub.assert_not_received(*[e for e in escaped if e not in self.secrets])


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def secret_repo(tmp_path: Path) -> SecretRepo:
    files, planted = build()
    root = tmp_path / "shop"
    outside = tmp_path / "outside" / "shadow.py"
    outside.parent.mkdir(parents=True)
    outside.write_text(f'ROOT_PASSWORD = "{OUTSIDE_SECRET}"\n')
    everything = {**files, "shop/__init__.py": "", "shop/store.py": STORE,
                  ".env": f"DB_PASSWORD={ENV_SECRET}\n",
                  ".gitignore": "local/\n", "local/settings_local.py": f'SECRET = "{IGNORED_SECRET}"\n',
                  "README.md": "# shop\n\nA small shop service.\n"}
    for rel, text in everything.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "app" / "shadow.py").symlink_to(outside)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "Dev")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return SecretRepo(root, files, planted)


def stub_settings(repo: Path, stub: AnthropicStub, **extra: Any) -> Settings:
    overrides = {**stub.overrides(), "claude.model": MODEL, "claude.max_retries": 1, "index.workers": 1,
                 "index.map_tokens": 4096, **extra}
    return load_settings(repo, overrides=overrides, env={})


@pytest.fixture
def client_for(tmp_path: Path) -> Iterator[Any]:
    made: list[ClaudeClient] = []

    def make(settings: Settings, **kwargs: Any) -> ClaudeClient:
        client = ClaudeClient(settings, Ledger(tmp_path / "ledger.db"), api_key=TEST_API_KEY, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
