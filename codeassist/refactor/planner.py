"""Prompts and the plan: what Claude is told, and how its plan comes back (a ``submit_plan`` tool call).

The stable prefix (system text + repository map + file texts) is the same for the plan and every
edit turn, so the prompt cache serves it after the first call.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from codeassist.errors import RefactorError
from codeassist.refactor.context import Context
from codeassist.refactor.editor_tool import DELETE_TOOL, TOOL_NAME, VIRTUAL_ROOT
from codeassist.refactor.models import Plan, PlanStep

log = logging.getLogger(__name__)

PLAN_TOOL = "submit_plan"
PLAN_MAX_TOKENS = 4096

SYSTEM = f"""\
You are the refactoring engine of codeassist, working on a git repository checked out at \
{VIRTUAL_ROOT}. You make multi-file changes that are complete and consistent: every definition, \
call site, import, test and document that the change affects is updated.

Rules:
- Work in two phases. First call `{PLAN_TOOL}` once with the plan. Later you get the text editor \
tool `{TOOL_NAME}` (commands: view, str_replace, create, insert) and `{DELETE_TOOL}`.
- Paths are relative to the repository root (or absolute under {VIRTUAL_ROOT}). Nothing outside \
the repository and nothing in .git can be read or written.
- `str_replace` needs `old_str` to match exactly one place: copy it from a `view` result, \
without the line-number prefix, with enough surrounding lines to be unique.
- Do not touch files the change does not need. Keep the project's style.
- When every edit is done, answer with a short summary and no tool call.
"""

PLAN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "summary": {"type": "string", "description": "One or two sentences: what the change does."},
        "steps": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "description": {"type": "string"},
                    "files": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["description"],
            },
        },
        "files_to_change": {"type": "array", "items": {"type": "string"}},
        "files_to_create": {"type": "array", "items": {"type": "string"}},
        "files_to_delete": {"type": "array", "items": {"type": "string"}},
        "rationale": {"type": "string", "description": "Why this plan (risks, alternatives)."},
    },
    "required": ["summary", "steps"],
}


def plan_tool() -> dict[str, Any]:
    return {"name": PLAN_TOOL, "description": "Submit the refactoring plan before any edit.",
            "input_schema": PLAN_SCHEMA}


def context_text(ctx: Context) -> str:
    """The stable, cached part after the system text: repository map and file texts."""
    parts = []
    if ctx.repo_map:
        parts.append(f"<repository_map>\n{ctx.repo_map}\n</repository_map>")
    if ctx.files:
        parts.append(f"<files>\n{ctx.render_files()}\n</files>")
    if ctx.left_out:
        parts.append("Files in play but not shown (view them when needed): " + ", ".join(ctx.left_out))
    return "\n\n".join(parts)


def plan_request(instruction: str) -> str:
    return (f"<instruction>\n{instruction}\n</instruction>\n\nPlan this change now: call `{PLAN_TOOL}` "
            "with the steps and every file to change, create or delete. Do not edit anything yet.")


def edit_request(plan: Plan) -> str:
    return (f"The plan was approved:\n\n{plan.render()}\n\nCarry it out now with `{TOOL_NAME}` "
            f"(and `{DELETE_TOOL}` for files to delete). View a file before you change it unless its "
            "full text is in the context. When everything is done, reply with a one-paragraph summary "
            "and no tool call.")


def repair_request(failures: Sequence[str], round_number: int, rounds: int) -> str:
    listed = "\n".join(f"- {f}" for f in failures)
    return (f"Validation of your edits failed (repair round {round_number} of {rounds}). Fix only "
            f"these problems, then reply with a short summary and no tool call:\n{listed}")


def parse_plan(tool_inputs: Sequence[Mapping[str, Any]], text: str) -> Plan:
    """The plan from a ``submit_plan`` call, or from JSON in the text; RefactorError otherwise."""
    data: Mapping[str, Any] | None = tool_inputs[0] if tool_inputs else _json_in(text)
    if data is None or not isinstance(data.get("summary"), str) or not data.get("summary", "").strip():
        raise RefactorError(
            "The model answered without a usable plan, so nothing was changed.",
            hint="Run the command again, or rephrase the instruction more concretely.",
        )
    steps = tuple(
        PlanStep(str(s.get("description", "")).strip(), _strings(s.get("files")))
        for s in data.get("steps") or [] if isinstance(s, Mapping) and str(s.get("description", "")).strip()
    )
    return Plan(
        summary=str(data["summary"]).strip(),
        steps=steps,
        change=_strings(data.get("files_to_change")),
        create=_strings(data.get("files_to_create")),
        delete=_strings(data.get("files_to_delete")),
        rationale=str(data.get("rationale") or "").strip(),
    )


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(str(v).strip() for v in value if isinstance(v, str | int) and str(v).strip())


def _json_in(text: str) -> Mapping[str, Any] | None:
    match = re.search(r"\{.*\}", text, re.DOTALL)
    if match is None:
        return None
    try:
        data = json.loads(match.group(0))
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None
