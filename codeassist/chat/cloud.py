"""How the chat talks to Claude: through the claude package's client, which applies the privacy
guard (offline refusal, redaction, restoration), the cost limit and the ledger on every call."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from codeassist.claude.datatypes import Prompt, Reply, Usage
from codeassist.claude.privacy import PrivacyGuard
from codeassist.config import Settings

if TYPE_CHECKING:
    from codeassist.claude.client import ClaudeClient

__all__ = ["CloudRequest", "make_guard", "model_name", "stream_answer"]

COMMAND = "chat"  # the ledger's command name for chat answers


@dataclass
class CloudRequest:
    system: str
    context: str
    messages: list[dict[str, str]]
    max_tokens: int
    usage: Usage = field(default_factory=Usage)  # filled in when the answer is complete
    model: str = ""  # the model that answered, as the API names it
    files: tuple[tuple[str, int], ...] = ()  # (path, characters) of the files in the context


def make_guard(settings: Settings) -> PrivacyGuard:
    return PrivacyGuard.from_settings(settings)


def model_name(client: ClaudeClient | None, settings: Settings) -> str:
    """The model id when known (configured, or resolved earlier), else "Claude" (no extra call)."""
    return (client.model_id if client is not None else None) or settings.claude.model or "Claude"


async def stream_answer(client: ClaudeClient, guard: PrivacyGuard,
                        request: CloudRequest) -> AsyncGenerator[str, None]:
    """Text of Claude's answer as it streams; fills ``request.usage`` at the end."""
    guard.check_cloud()
    prompt = Prompt(messages=request.messages, system=request.system, context=request.context,
                    files=request.files)
    client.new_budget()  # claude.max_cost limits each answer; the first token waits for no pre-flight
    stream = client.astream(prompt, max_tokens=request.max_tokens, command=COMMAND, preflight=False)
    async with aclosing(stream) as items:
        async for item in items:
            if isinstance(item, Reply):
                request.usage, request.model = item.usage, item.model
            else:
                yield item
