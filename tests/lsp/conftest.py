"""Fixtures: the real `codeassist lsp` process driven by pytest-lsp's client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.lsp.support import CLIENTS, SERVER_CMD, make_repo


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER_CMD), params=CLIENTS)
async def client(lsp_client: LanguageClient, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """A client with the capabilities of a real editor (neovim, VS Code) plus inlineCompletion."""
    lsp_client.client_name = request.param  # type: ignore[attr-defined]
    lsp_client.codeassist_statuses = []  # type: ignore[attr-defined]

    @lsp_client.feature("codeassist/status")
    def on_status(params: Any) -> None:
        lsp_client.codeassist_statuses.append(params._asdict())  # a namedtuple  # type: ignore[attr-defined]

    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")



