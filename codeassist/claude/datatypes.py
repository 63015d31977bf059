"""Plain data passed in and out of the Claude client (no SDK types leak out of ``client.py``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["TEXT_EDITOR_TOOL", "CostEstimate", "Prompt", "Reply", "ToolUse", "Usage"]

# Anthropic's own text editor tool (Claude 4 models); codeassist executes its commands locally.
TEXT_EDITOR_TOOL: Mapping[str, Any] = {"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"}


@dataclass(frozen=True)
class Prompt:
    """One request: ``system`` and ``context`` form the stable, cached prefix.

    ``context`` is the large stable part (e.g. the repository map) placed after the system text;
    the cache breakpoint goes after it. ``messages`` use the Messages API shape (``role`` and
    ``content`` as a string or a list of blocks: text, tool_use, tool_result), with real values:
    the client has the privacy guard seal it (every secret redacted) and restores replies.
    ``files`` names the files whose text it carries (path, characters) for the privacy audit.
    """

    messages: Sequence[Mapping[str, Any]]
    system: str = ""
    context: str = ""
    tools: Sequence[Mapping[str, Any]] = ()
    files: Sequence[tuple[str, int]] = ()

    @classmethod
    def single(cls, user: str, *, system: str = "", context: str = "") -> Prompt:
        return cls(messages=[{"role": "user", "content": user}], system=system, context=context)


@dataclass(frozen=True)
class Usage:
    """Tokens and dollars of one or more model calls: the one usage type of the Claude client, the
    refactor report, the chat totals and the cost ledger.

    ``input_tokens`` excludes the prompt tokens read from (``cache_read_tokens``) or written to
    (``cache_write_tokens``) the prompt cache, as the API counts them. Usages add up with ``+``.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0

    @property
    def total_input_tokens(self) -> int:
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens,
                     self.cache_read_tokens + other.cache_read_tokens,
                     self.cache_write_tokens + other.cache_write_tokens,
                     self.cost_usd + other.cost_usd, self.calls + other.calls)


@dataclass(frozen=True)
class ToolUse:
    id: str
    name: str
    input: dict[str, Any]


@dataclass(frozen=True)
class Reply:
    """The complete assistant turn (never a partial one), with secrets restored."""

    text: str
    tool_uses: list[ToolUse]
    stop_reason: str
    model: str
    usage: Usage  # this call's tokens and cost (``calls == 1``)
    content: list[dict[str, Any]] = field(default_factory=list)  # assistant blocks, ready to send back

    @property
    def cost_usd(self) -> float:
        return self.usage.cost_usd

    def as_message(self) -> dict[str, Any]:
        """This turn as an ``assistant`` message for the next request."""
        return {"role": "assistant", "content": list(self.content)}

    @staticmethod
    def tool_result(tool_use_id: str, content: str, *, is_error: bool = False) -> dict[str, Any]:
        """A ``tool_result`` block answering one tool use (put it in a ``user`` message)."""
        block: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_use_id, "content": content}
        if is_error:
            block["is_error"] = True
        return block


@dataclass(frozen=True)
class CostEstimate:
    """Pre-flight estimate from ``count_tokens`` (the prompt size is exact): the one estimate type.

    ``usd_plan`` is an upper bound of the first call (no cache hit, the whole output budget);
    ``usd_total`` estimates the whole job: for a refactor, the plan plus ``edit_turns`` edit turns
    that read the stable prefix from the prompt cache; for a single call it equals ``usd_plan``.
    """

    model: str
    input_tokens: int
    max_output_tokens: int
    usd_plan: float
    usd_total: float
    edit_turns: int = 0
    local: bool = False  # the local model: costs nothing
