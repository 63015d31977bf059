"""Auto routing: the local model for quick work, Claude for work spanning many files or long context.

Pure functions over what the session knows; the result always carries a one-clause reason that the
surfaces show next to the answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from codeassist.chat.events import RouteDecision

__all__ = ["RoutingInputs", "decide", "mentioned_paths"]

MULTI_FILE_THRESHOLD = 3

_ASKED_CLAUDE = re.compile(r"\b(ask|use|using|with|via|let|have)\s+claude\b|\bclaude[,:]", re.IGNORECASE)
_MULTI_FILE = re.compile(
    r"\b(refactor\w*|renam\w+ .* (everywhere|across)|across (the|all|every|multiple|several|many) "
    r"(files?|modules?|packages?|code ?base|repo\w*|project)|(every|all|multiple|several|many) "
    r"(files|modules|packages)|whole (code ?base|repo\w*|project)|entire (code ?base|repo\w*|project)|"
    r"migrat\w+|multi-?file)\b",
    re.IGNORECASE,
)
_SNIPPET = re.compile(r"\b(write|generate|snippet|implement|create a function|give me (a|some) code)\b",
                      re.IGNORECASE)
_EXPLAIN = re.compile(r"\b(explain|what does|how does|why does|what is|describe)\b", re.IGNORECASE)
_ONE_LETTER_EXTS = {"c", "h", "r", "m", "s"}
_PATH = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w-]+\.[A-Za-z][\w]{0,9})(?![\w/])")


@dataclass(frozen=True)
class RoutingInputs:
    text: str
    mode: str  # "auto", "local" or "claude" (sticky /local, /claude or chat.route)
    cloud_allowed: bool  # privacy.cloud; false = offline mode
    claude_ready: bool  # an API key (or a configured base URL) is there
    context_files: tuple[str, ...] = ()
    prompt_tokens: int = 0  # estimated size of the local prompt (context + history + question)
    local_budget: int = 8192  # what the local model can take
    local_can_chat: bool = True  # false: the local model has no chat template (none built in either)


def mentioned_paths(text: str) -> list[str]:
    """File-like words of ``text`` (``pkg/mod.py``, ``README.md``), in order, without duplicates."""
    seen: dict[str, None] = {}
    for match in _PATH.finditer(text):
        word = match.group(1)
        ext = word.rsplit(".", 1)[-1]
        if not re.fullmatch(r"[\d.]+", word) and (len(ext) > 1 or ext in _ONE_LETTER_EXTS):
            seen.setdefault(word, None)
    return list(seen)


def decide(inputs: RoutingInputs) -> RouteDecision:
    if not inputs.local_can_chat and inputs.cloud_allowed and inputs.claude_ready:
        return RouteDecision("claude", "the local model cannot chat (it has no chat template)")
    if inputs.mode == "local":
        return RouteDecision("local", "local route chosen with /local")
    if not inputs.cloud_allowed:
        return RouteDecision("local", "offline mode: nothing goes to Claude")
    wanted = _cloud_reason(inputs)
    if wanted is None:
        return RouteDecision("local", _local_reason(inputs))
    if not inputs.claude_ready:
        return RouteDecision("local", f"{wanted}, but Claude is not set up (no ANTHROPIC_API_KEY)")
    return RouteDecision("claude", wanted)


def _cloud_reason(inputs: RoutingInputs) -> str | None:
    if inputs.mode == "claude":
        return "Claude route chosen with /claude"
    if _ASKED_CLAUDE.search(inputs.text):
        return "you asked for Claude"
    files = set(inputs.context_files) | set(mentioned_paths(inputs.text))
    if len(files) >= MULTI_FILE_THRESHOLD:
        return f"the request spans {len(files)} files"
    if _MULTI_FILE.search(inputs.text):
        return "multi-file work"
    if inputs.prompt_tokens > inputs.local_budget:
        return f"needs ~{inputs.prompt_tokens} tokens of context, more than the local {inputs.local_budget}"
    return None


def _local_reason(inputs: RoutingInputs) -> str:
    if _SNIPPET.search(inputs.text):
        return "a snippet: the local model is quick and private"
    if _EXPLAIN.search(inputs.text) and inputs.context_files:
        return "explains code in context: the local model is enough"
    return "a quick question: the local model is quick and private"
