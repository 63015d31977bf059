"""The privacy guard lives in :mod:`codeassist.privacy`; this name stays for existing imports."""

from __future__ import annotations

from codeassist.privacy.guard import (
    GuardedRequest,
    Manifest,
    PrivacyGuard,
    Redaction,
    Redactions,
    StreamRestorer,
)

__all__ = ["GuardedRequest", "Manifest", "PrivacyGuard", "Redaction", "Redactions", "StreamRestorer"]
