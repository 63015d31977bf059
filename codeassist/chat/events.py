"""What a chat answer streams: one :class:`Routed`, then tokens and notices, then one :class:`Done`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Route = Literal["local", "claude"]

__all__ = ["AnswerStats", "ChatEvent", "Done", "Notice", "Route", "RouteDecision", "Routed", "Token"]


@dataclass(frozen=True)
class RouteDecision:
    """Which model answers and why (one short clause, shown to the user)."""

    route: Route
    reason: str


@dataclass(frozen=True)
class Routed:
    """First event of every answer: the decision and the model that will answer."""

    decision: RouteDecision
    model: str

    @property
    def line(self) -> str:
        """The one line every answer shows: who answered and why."""
        return f"{self.model} ({self.decision.route}) — {self.decision.reason}"


@dataclass(frozen=True)
class Token:
    """A piece of the answer text, as it arrives from the model."""

    text: str
    at: float = 0.0  # time.perf_counter() when it arrived from the model server


@dataclass(frozen=True)
class Notice:
    """Something the user should know about this answer (context dropped, tiny model...)."""

    text: str


@dataclass(frozen=True)
class AnswerStats:
    route: Route
    model: str
    reason: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    first_token_s: float | None = None
    total_s: float = 0.0
    cancelled: bool = False
    context_files: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Done:
    """Last event of an answer (also after a cancellation)."""

    stats: AnswerStats
    text: str


ChatEvent = Routed | Token | Notice | Done
