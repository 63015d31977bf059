"""A small real repository and real sessions on it (the session llama-server, optional Claude stub)."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from codeassist.app import Application
from codeassist.chat.session import ChatSession
from codeassist.config import Settings, load_settings
from tests.support.llama import LlamaServerInfo

SECRET_KEY = "AKIAIOSFODNN7EXAMPLE"
ENV_SECRET = "hunter2-in-the-env-file-9f8e7d"

FILES = {
    "shop/store.py": (
        "class Store:\n"
        "    def __init__(self):\n"
        "        self.items = {}\n\n"
        "    def fetch(self, key):\n"
        "        return self.items.get(key)\n\n"
        "    def put(self, key, value):\n"
        "        self.items[key] = value\n"
    ),
    "shop/cart.py": (
        "from shop.store import Store\n\n"
        f"AWS_KEY = \"{SECRET_KEY}\"\n\n"
        "def total(store: Store, keys):\n"
        "    return sum(store.fetch(k) for k in keys)\n"
    ),
    "shop/__init__.py": "",
    ".env": f"DB_PASSWORD={ENV_SECRET}\n",
    "README.md": "# shop\n",
}


def make_repo(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "init"]):
        subprocess.run(["git", *args], cwd=root, check=True)
    return root


def settings_for(repo: Path, server: LlamaServerInfo, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"server.url": server.url, "model.name": server.name, "chat.max_tokens": 24,
                              "index.workers": 1, "index.map_tokens": 128}
    values.update(overrides)
    return load_settings(repo, overrides=values)


def make_session(repo: Path, settings: Settings, *, claude: bool = False) -> ChatSession:
    """A session as `codeassist chat` builds it: through the application, the index up to date."""
    return Application(settings, repo).chat_session(update_index=True, claude=claude)


def stub_overrides(stub: Any, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {**stub.overrides(), "claude.model": "claude-sonnet-4-6", **(extra or {})}
