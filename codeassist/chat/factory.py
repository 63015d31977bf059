"""Build a :class:`ChatSession` with everything it needs, from settings alone (zero configuration)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from codeassist.chat.history import History
from codeassist.chat.session import ChatSession
from codeassist.config import Settings, anthropic_api_key
from codeassist.errors import CodeassistError
from codeassist.runtime import LocalRuntime

if TYPE_CHECKING:
    from codeassist.claude.client import ClaudeClient
    from codeassist.index import RepoIndex

__all__ = ["close_session", "open_session"]

log = logging.getLogger(__name__)


def open_session(settings: Settings, root: Path, *, runtime: LocalRuntime | None = None) -> ChatSession:
    """A session for ``root``: the local runtime (server started lazily), the index if it can be
    opened, Claude if it is allowed and set up, and the history if it is on."""
    root = (settings.repo_root or root).resolve()
    history = History.open() if settings.chat.history else None
    return ChatSession(settings, runtime or LocalRuntime(settings), _open_index(root, settings),
                       _open_claude(settings), root=root, history=history)


def close_session(session: ChatSession) -> None:
    """Close the index and the history. The runtime is closed by the event loop that used it."""
    index = session.context.index
    if index is not None:
        index.close()
    if session.history is not None:
        session.history.close()


def _open_index(root: Path, settings: Settings) -> RepoIndex | None:
    from codeassist.index import RepoIndex

    try:
        return RepoIndex.open(root, settings.index)
    except CodeassistError as exc:
        log.warning("the repository index is not available: %s", exc)
        return None


def _open_claude(settings: Settings) -> ClaudeClient | None:
    """The Claude client when cloud calls are allowed and an API key is there."""
    if not settings.privacy.cloud:
        return None
    if anthropic_api_key() is None:
        return None
    from codeassist.claude.client import ClaudeClient
    from codeassist.claude.ledger import Ledger

    try:
        return ClaudeClient(settings, Ledger())
    except CodeassistError as exc:
        log.warning("Claude is not available: %s", exc)
        return None
