"""Claude: the Messages API client, the privacy guard, the cost ledger and the price table.

``client.py`` is the one module importing the ``anthropic`` SDK; everything else here is plain
Python. See docs/claude.md.
"""

from __future__ import annotations

from codeassist.claude.client import ClaudeClient
from codeassist.claude.datatypes import TEXT_EDITOR_TOOL, CostEstimate, Prompt, Reply, ToolUse, Usage
from codeassist.claude.ledger import CallRecord, Ledger, SummaryRow
from codeassist.claude.privacy import PrivacyGuard, Redaction, Redactions

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
