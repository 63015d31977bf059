"""Conversions between LSP types and the core's values.

The core counts columns in code points; LSP clients count in the negotiated position encoding
(UTF-16 by default, UTF-8 or UTF-32 when negotiated). Every conversion goes through the
document's pygls position codec.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace import TextDocument
from pygls.workspace.position_codec import ServerTextPosition

if TYPE_CHECKING:
    from codeassist.index import Symbol

__all__ = [
    "Instruction",
    "document_symbols",
    "inline_list",
    "instruction_at",
    "language_of",
    "rel_path",
    "snippet_edit",
    "to_core_position",
    "uri_to_path",
    "workspace_symbols",
]

_LANGUAGES = {
    ".py": "python", ".pyi": "python", ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript",
    ".jsx": "javascript", ".ts": "typescript", ".tsx": "typescriptreact", ".go": "go", ".rs": "rust",
    ".java": "java", ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".hpp": "cpp", ".rb": "ruby",
    ".cs": "csharp", ".php": "php", ".sh": "shellscript", ".bash": "shellscript", ".lua": "lua",
}
_COMMENT = re.compile(r"^\s*(#|//|--|/\*+|\*|;)\s?(?P<text>.*?)\s*(\*/)?\s*$")
_KINDS = {
    "class": types.SymbolKind.Class, "function": types.SymbolKind.Function,
    "method": types.SymbolKind.Method, "module": types.SymbolKind.Module,
    "interface": types.SymbolKind.Interface, "struct": types.SymbolKind.Struct,
    "enum": types.SymbolKind.Enum, "constant": types.SymbolKind.Constant,
    "variable": types.SymbolKind.Variable, "field": types.SymbolKind.Field,
    "property": types.SymbolKind.Property, "constructor": types.SymbolKind.Constructor,
    "type": types.SymbolKind.TypeParameter, "trait": types.SymbolKind.Interface,
    "namespace": types.SymbolKind.Namespace, "macro": types.SymbolKind.Function,
}


def uri_to_path(uri: str) -> Path | None:
    path = to_fs_path(uri)
    return Path(path) if path else None


def rel_path(path: Path, root: Path | None) -> str:
    """Repo-relative posix path when ``path`` is inside ``root``, else the absolute path."""
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def language_of(doc: TextDocument) -> str:
    if doc.language_id:
        return doc.language_id
    return _LANGUAGES.get(Path(doc.path).suffix.lower(), "plaintext")


def to_core_position(doc: TextDocument, position: types.Position) -> tuple[int, int]:
    """(line, code-point column) of a client position; out-of-range positions are clamped."""
    lines = doc.lines
    if not lines:
        return 0, 0
    if position.line >= len(lines) and lines[-1].endswith("\n"):
        return len(lines), 0  # the empty line after a final newline (the core splits on "\n")
    line = min(max(position.line, 0), len(lines) - 1)
    text = lines[line].rstrip("\r\n")
    units = doc.position_codec.client_num_units(text)
    character = min(max(position.character, 0), units)
    server = doc.position_codec.position_from_client_units(
        lines, types.Position(line=line, character=character))
    return server.line, min(server.character, len(text))


def _client_position(lines: Sequence[str], doc: TextDocument, line: int, col: int) -> types.Position:
    if line >= len(lines):
        return types.Position(line=line, character=0)
    return doc.position_codec.position_to_client_units(lines, ServerTextPosition(line, col))


def inline_list(doc: TextDocument, line: int, col: int, items: Sequence[str]) -> types.InlineCompletionList:
    """Suggestions at (line, col), with their range in client units: empty (an insertion), or
    covering the auto-closed brackets and quotes after the cursor that a suggestion contains."""
    from codeassist.completion import replaced_suffix

    lines = doc.lines
    pos = _client_position(lines, doc, line, col)
    rest = lines[line].rstrip("\r\n")[col:] if line < len(lines) else ""
    out = []
    for text in items:
        if not text:
            continue
        end = pos
        covered = replaced_suffix(text, rest)
        if covered:
            end = _client_position(lines, doc, line, col + covered)
        out.append(types.InlineCompletionItem(insert_text=text, range=types.Range(start=pos, end=end)))
    return types.InlineCompletionList(items=out)


def symbol_kind(kind: str) -> types.SymbolKind:
    return _KINDS.get(kind.lower(), types.SymbolKind.Variable)


def _range(lines: Sequence[str], doc: TextDocument, sym: Symbol) -> types.Range:
    return types.Range(start=_client_position(lines, doc, sym.line, sym.col),
                       end=_client_position(lines, doc, sym.end_line, sym.end_col))


def document_symbols(doc: TextDocument, symbols: Sequence[Symbol]) -> list[types.DocumentSymbol]:
    """The outline as a tree: a symbol nests inside the nearest symbol whose range holds it."""
    lines = doc.lines
    ordered = sorted(symbols, key=lambda s: (s.line, s.col, -s.end_line, -s.end_col))
    roots: list[types.DocumentSymbol] = []
    stack: list[tuple[Symbol, types.DocumentSymbol]] = []
    for sym in ordered:
        rng = _range(lines, doc, sym)
        name_end = _client_position(lines, doc, sym.line, sym.col + len(sym.name))
        node = types.DocumentSymbol(
            name=sym.name, kind=symbol_kind(sym.kind), range=rng,
            selection_range=types.Range(start=rng.start, end=_min(name_end, rng.end)),
            detail=sym.signature or None, children=[])
        while stack and not _contains(stack[-1][0], sym):
            stack.pop()
        siblings = stack[-1][1].children if stack else roots
        assert isinstance(siblings, list)
        siblings.append(node)
        stack.append((sym, node))
    return roots


def _min(a: types.Position, b: types.Position) -> types.Position:
    return a if (a.line, a.character) <= (b.line, b.character) else b


def _contains(outer: Symbol, inner: Symbol) -> bool:
    return ((outer.line, outer.col) <= (inner.line, inner.col)
            and (inner.end_line, inner.end_col) <= (outer.end_line, outer.end_col))


def workspace_symbols(symbols: Sequence[Symbol], root: Path | None,
                      lines_of: Callable[[Path], tuple[TextDocument, Sequence[str]]]
                      ) -> list[types.WorkspaceSymbol]:
    """Index symbols as workspace symbols; ``lines_of`` gives a file's document and lines."""
    out: list[types.WorkspaceSymbol] = []
    for sym in symbols:
        path = (root / sym.path) if root is not None and not Path(sym.path).is_absolute() else Path(sym.path)
        doc, lines = lines_of(path)
        out.append(types.WorkspaceSymbol(
            name=sym.name, kind=symbol_kind(sym.kind), container_name=sym.scope or None,
            location=types.Location(uri=from_fs_path(str(path)) or path.as_uri(),
                                    range=_range(lines, doc, sym))))
    return out


@dataclass(frozen=True)
class Instruction:
    """What to generate and where: after ``insert_line``, indented like the instruction."""

    text: str
    insert_line: int
    indent: str


def instruction_at(doc: TextDocument, rng: types.Range) -> Instruction | None:
    """The instruction of a code action: the selected text, else a comment on the cursor line."""
    lines = doc.lines
    if not lines:
        return None
    start_line, start_col = to_core_position(doc, rng.start)
    end_line, end_col = to_core_position(doc, rng.end)
    if (start_line, start_col) != (end_line, end_col):
        chosen = list(lines[start_line:end_line + 1])
        chosen[-1] = chosen[-1][:end_col] if len(chosen) > 1 else chosen[-1][start_col:end_col]
        if len(chosen) > 1:
            chosen[0] = chosen[0][start_col:]
        text = " ".join(_strip_comment(part) for part in chosen).strip()
        last = end_line if end_col > 0 or end_line == start_line else end_line - 1
    else:
        match = _COMMENT.match(lines[start_line].rstrip("\r\n"))
        if match is None or not match.group("text"):
            return None
        text, last = match.group("text"), start_line
    if not text:
        return None
    first = lines[start_line]
    indent = first[: len(first) - len(first.lstrip())]
    return Instruction(text=text, insert_line=last + 1, indent=indent)


def _strip_comment(line: str) -> str:
    match = _COMMENT.match(line.rstrip("\r\n"))
    return match.group("text") if match else line.strip()


def snippet_edit(doc: TextDocument, where: Instruction, snippet: str) -> types.WorkspaceEdit:
    """Insert ``snippet`` on the line after the instruction, indented like it."""
    body = "\n".join((where.indent + line) if line.strip() else line
                     for line in textwrap.dedent(snippet.strip("\n")).splitlines())
    lines = doc.lines
    if where.insert_line < len(lines) or (lines and lines[-1].endswith("\n")):
        pos = types.Position(line=min(where.insert_line, len(lines)), character=0)
        new_text = body + "\n"
    else:  # after a last line without a newline
        last = len(lines) - 1
        pos = (_client_position(lines, doc, last, len(lines[last])) if lines
               else types.Position(line=0, character=0))
        new_text = ("\n" if lines else "") + body + "\n"
    edit = types.TextEdit(range=types.Range(start=pos, end=pos), new_text=new_text)
    return types.WorkspaceEdit(changes={doc.uri: [edit]})
