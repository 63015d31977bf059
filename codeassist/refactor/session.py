"""One refactor conversation with the model: the plan turn, the tool-use loop, repair rounds.

The same system text, context and tools go with every turn (one stable, cached prefix); the
conversation grows by appending, so each turn reads the earlier ones from the prompt cache.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from codeassist.claude.client import ClaudeClient
from codeassist.claude.datatypes import Prompt, Reply, Usage
from codeassist.errors import Cancelled, RefactorError
from codeassist.refactor.editor_tool import EditorTool
from codeassist.refactor.models import Plan, Progress
from codeassist.refactor.planner import PLAN_MAX_TOKENS, PLAN_TOOL, parse_plan

log = logging.getLogger(__name__)

COMMAND = "refactor"


class Conversation:
    def __init__(self, client: ClaudeClient, system: str, context: str, tools: list[dict[str, Any]]) -> None:
        self.client = client
        self.system = system
        self.context = context
        self.tools = tools
        self.messages: list[dict[str, Any]] = []
        self.files: dict[str, int] = {}  # path -> characters of it sent (context, views), for the audit
        self.usage = Usage()
        self.model = ""
        self._pending: list[str] = []  # tool calls of the plan turn, answered with the approval
        self.should_stop: Callable[[], bool] | None = None  # asked between turns and stream events

    def prompt(self) -> Prompt:
        return Prompt(messages=list(self.messages), system=self.system, context=self.context,
                      tools=self.tools, files=tuple(self.files.items()))

    def check_stop(self) -> None:
        if self.should_stop is not None and self.should_stop():
            raise Cancelled("The refactor was stopped; nothing was committed.")

    def send(self, *, max_tokens: int | None = None) -> Reply:
        self.check_stop()
        reply = self.client.turn(self.prompt(), max_tokens=max_tokens, command=COMMAND,
                                 should_stop=self.should_stop)
        self.messages.append(reply.as_message())
        self.model = reply.model
        self.usage += reply.usage
        log.info("turn %d: stop=%s, %d tool calls", self.usage.calls, reply.stop_reason, len(reply.tool_uses))
        return reply

    def ask_plan(self, request: str, max_tokens: int = PLAN_MAX_TOKENS) -> Plan:
        self.messages.append({"role": "user", "content": request})
        reply = self.send(max_tokens=max_tokens)
        plan_uses = [u for u in reply.tool_uses if u.name == PLAN_TOOL]
        if not plan_uses and reply.stop_reason == "max_tokens":
            raise RefactorError(
                f"The model's answer stopped at the output limit ({max_tokens} tokens) before it gave a "
                "plan, so nothing was changed.",
                hint="Raise claude.max_tokens, or narrow the instruction.",
            )
        plan = parse_plan([u.input for u in plan_uses], reply.text)
        self._pending = [u.id for u in reply.tool_uses]
        return plan

    def approve_plan(self, edit_request: str) -> None:
        """Answer the plan turn's tool calls and ask for the edits (one user message)."""
        blocks: list[dict[str, Any]] = [
            Reply.tool_result(tid, "Plan recorded and approved.") for tid in self._pending
        ]
        blocks.append({"type": "text", "text": edit_request})
        self.messages.append({"role": "user", "content": blocks})

    def add_user_text(self, text: str) -> None:
        self.messages.append({"role": "user", "content": text})

    def edit_loop(self, editor: EditorTool, max_turns: int, progress: Callable[[Progress], None]) -> None:
        """Turns until the model stops calling tools; every call is executed in ``editor``."""
        for _ in range(max_turns):
            reply = self.send()
            if reply.stop_reason == "max_tokens":
                raise RefactorError(
                    "The model's answer hit the output limit (claude.max_tokens) in the middle of its edits; "
                    "nothing was committed.",
                    hint="Raise claude.max_tokens or split the refactor into smaller steps.",
                )
            if not reply.tool_uses:
                return
            results: list[dict[str, Any]] = []
            for use in reply.tool_uses:
                self.check_stop()
                if use.name == PLAN_TOOL:
                    results.append(Reply.tool_result(use.id, "The plan is already approved; make the edits "
                                                     "with the text editor tool now.", is_error=True))
                    continue
                outcome = editor.execute(use.name, use.input)
                what = str(use.input.get("command", use.name))
                where = str(use.input.get("path", ""))
                progress(Progress("edit", f"{what} {where}" + (" — refused" if outcome.is_error else "")))
                if what == "view" and not outcome.is_error:
                    self.files[where] = self.files.get(where, 0) + len(outcome.text)
                results.append(Reply.tool_result(use.id, outcome.text, is_error=outcome.is_error))
            self.messages.append({"role": "user", "content": results})
        raise RefactorError(
            f"The model was still editing after {max_turns} turns, so the refactor was stopped; nothing "
            "was committed.",
            hint="Split the instruction into smaller refactors.",
        )
