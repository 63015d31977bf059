"""Code actions: what is offered where, and the data carried to ``codeAction/resolve``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lsprotocol import types
from pygls.workspace import TextDocument

from codeassist_lsp import convert as cv

__all__ = ["GENERATE_TITLE", "REFACTOR_COMMAND", "REFACTOR_TITLE", "STATUS_COMMAND", "ActionData",
           "context_before", "offer"]

GENERATE_TITLE = "Generate code here (local)"
REFACTOR_TITLE = "Refactor with Claude…"
REFACTOR_COMMAND = "codeassist.refactor"
STATUS_COMMAND = "codeassist.status"
_CONTEXT_LINES = 80


@dataclass(frozen=True)
class ActionData:
    """Where an action was asked for: ``CodeAction.data`` of "generate", the argument of "refactor"."""

    uri: str
    range: types.Range
    kind: str = "generate"

    def to_json(self) -> dict[str, Any]:
        r = self.range
        return {"kind": self.kind, "uri": self.uri,
                "range": [r.start.line, r.start.character, r.end.line, r.end.character]}

    @classmethod
    def parse(cls, data: Any, kind: str = "generate") -> ActionData:
        if not isinstance(data, Mapping) or data.get("kind") != kind:
            raise ValueError("This code action was not made by codeassist (its data is missing or wrong).")
        uri, rng = data.get("uri"), data.get("range")
        if not isinstance(uri, str) or not (isinstance(rng, list) and len(rng) == 4
                                            and all(isinstance(v, int) and v >= 0 for v in rng)):
            raise ValueError("The code action's data needs a `uri` string and a `range` of four integers.")
        start = types.Position(line=rng[0], character=rng[1])
        end = types.Position(line=rng[2], character=rng[3])
        return cls(uri=uri, range=types.Range(start=start, end=end), kind=kind)


def offer(doc: TextDocument, rng: types.Range) -> list[types.CodeAction]:
    """Generate (local) and refactor (Claude) when there is a selection or a comment at the cursor."""
    if cv.instruction_at(doc, rng) is None:
        return []
    data = ActionData(uri=doc.uri, range=rng).to_json()
    refactor = types.Command(title=REFACTOR_TITLE, command=REFACTOR_COMMAND,
                             arguments=[ActionData(uri=doc.uri, range=rng, kind="refactor").to_json()])
    kind = types.CodeActionKind.RefactorRewrite
    return [types.CodeAction(title=GENERATE_TITLE, kind=kind, data=data),
            types.CodeAction(title=REFACTOR_TITLE, kind=kind, command=refactor)]


def context_before(doc: TextDocument, where: cv.Instruction) -> str:
    """The code above the insertion point, which the snippet continues."""
    lines = doc.lines[max(0, where.insert_line - _CONTEXT_LINES):where.insert_line]
    return "".join(lines)
