"""Claude: the Messages API client, the privacy guard, the cost ledger and the price table.

``client.py`` is the one module importing the ``anthropic`` SDK; it is imported on first use of
:class:`ClaudeClient` only (the SDK takes seconds to import), so ``codeassist cost`` and the local
paths stay fast. See docs/claude.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from codeassist.claude.datatypes import TEXT_EDITOR_TOOL, CostEstimate, Prompt, Reply, ToolUse, Usage
from codeassist.claude.ledger import CallRecord, Ledger, SummaryRow
from codeassist.claude.privacy import PrivacyGuard, Redaction, Redactions

if TYPE_CHECKING:
    from codeassist.claude.client import ClaudeClient

__all__ = [
    "TEXT_EDITOR_TOOL",
    "CallRecord",
    "ClaudeClient",
    "CostEstimate",
    "Ledger",
    "PrivacyGuard",
    "Prompt",
    "Redaction",
    "Redactions",
    "Reply",
    "SummaryRow",
    "ToolUse",
    "Usage",
]


def __getattr__(name: str) -> Any:
    if name == "ClaudeClient":
        from codeassist.claude.client import ClaudeClient

        return ClaudeClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
