"""Privacy: nothing secret leaves the machine.

One egress point — :meth:`PrivacyGuard.seal` turns a cloud-bound request body into a
:class:`GuardedRequest` (every string redacted, sealed); the Claude client sends nothing else.
Detection is ``detect-secrets`` plus codeassist's own rules (:mod:`.scanner`, :mod:`.rules`);
:mod:`.sources` decides which files and inputs may be read for the cloud at all. See docs/claude.md.
"""

from __future__ import annotations

from codeassist.privacy.guard import (
    GuardedRequest,
    Manifest,
    PrivacyGuard,
    Redaction,
    Redactions,
    StreamRestorer,
)
from codeassist.privacy.scanner import Scanner
from codeassist.privacy.sources import CloudFile, clean_input, read_for_cloud, refusal

__all__ = [
    "CloudFile",
    "GuardedRequest",
    "Manifest",
    "PrivacyGuard",
    "Redaction",
    "Redactions",
    "Scanner",
    "StreamRestorer",
    "clean_input",
    "read_for_cloud",
    "refusal",
]
