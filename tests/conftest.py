"""Shared fixtures.

Every test runs with its own XDG config/state/data directories and without the developer's
CODEASSIST_* / ANTHROPIC_* variables, so nothing on the machine leaks into a test. The XDG cache
stays shared: it holds the built llama-server and the tiny model, which are built once per machine.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("xdg")
    for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
        path = home / name.lower()
        path.mkdir()
        monkeypatch.setenv(name, str(path))
    for name in list(os.environ):
        if name.startswith(("CODEASSIST_", "ANTHROPIC_")):
            monkeypatch.delenv(name, raising=False)
    yield home


# The session-wide real llama-server (tiny Gemma) is provided by the `llama_server` fixture,
# defined in tests/support/llama_fixture.py and registered here.
pytest_plugins = ["tests.support.llama_fixture", "tests.support.anthropic_fixture",
                  "tests.support.reach_fixtures"]
