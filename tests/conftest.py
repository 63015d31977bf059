"""Shared fixtures.

Every test runs with its own XDG config/state/data directories and without the developer's
CODEASSIST_* / ANTHROPIC_* variables, so nothing on the machine leaks into a test. The XDG cache
stays shared: it holds the built llama-server and the tiny model, which are built once per machine.
"""

from __future__ import annotations

import contextlib
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


@pytest.fixture(scope="session", autouse=True)
def inprocess_llama_cpp() -> None:
    """Load llama-cpp-python once, from the shared cache's libllama.

    The package reads LLAMA_CPP_LIB_PATH once, at import; tests that point XDG_CACHE_HOME at an
    empty cache must not be the first to import it.
    """
    from codeassist.errors import ModelError
    from codeassist.runtime import gguf

    with contextlib.suppress(ModelError):  # a test that needs it reports the reason itself
        gguf.import_llama_cpp()


# The session-wide real llama-server (tiny Gemma) is provided by the `llama_server` fixture,
# defined in tests/support/llama_fixture.py and registered here.
pytest_plugins = ["tests.support.llama_fixture", "tests.support.anthropic_fixture",
                  "tests.support.reach_fixtures"]
