"""The messages sent for one answer: a system part (repo map, files in play), then recent turns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from codeassist.chat.context import ContextFile, estimate_tokens

__all__ = ["SYSTEM_INTRO", "Turn", "build_context", "build_system", "fit_history"]

SYSTEM_INTRO = (
    "You are codeassist, a coding assistant working in the repository {root}. "
    "Answer concisely in Markdown; put code in fenced code blocks with a language tag."
)


@dataclass(frozen=True)
class Turn:
    role: str  # "user" or "assistant"
    content: str


def build_system(root: str, repo_map: str, files: Sequence[ContextFile], *, file_budget: int) -> str:
    """System text: intro, then :func:`build_context`."""
    context = build_context(repo_map, files, file_budget=file_budget)
    return SYSTEM_INTRO.format(root=root) + ("\n\n" + context if context else "")


def build_context(repo_map: str, files: Sequence[ContextFile], *, file_budget: int) -> str:
    """The repo map, then the added files until ``file_budget`` tokens are used."""
    parts: list[str] = []
    if repo_map.strip():
        parts.append("Repository map (the most relevant files and symbols):\n" + repo_map.strip())
    used = 0
    for item in files:
        cost = estimate_tokens(item.text)
        if used + cost > file_budget:
            remaining = max(0, (file_budget - used) * 4)
            if remaining < 200:
                break
            parts.append(f"File {item.path} (cut to fit):\n```\n{item.text[:remaining]}\n```")
            break
        parts.append(f"File {item.path}:\n```\n{item.text}\n```")
        used += cost
    return "\n\n".join(parts)


def fit_history(turns: Sequence[Turn], budget: int) -> list[Turn]:
    """The most recent turns that fit ``budget`` tokens, oldest first; starts with a user turn."""
    kept: list[Turn] = []
    used = 0
    for turn in reversed(turns):
        cost = estimate_tokens(turn.content) + 4
        if used + cost > budget:
            break
        kept.append(turn)
        used += cost
    kept.reverse()
    while kept and kept[0].role != "user":
        kept.pop(0)
    return kept
