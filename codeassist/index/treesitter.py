"""The tree-sitter boundary: the only module importing ``tree_sitter`` and the grammar wheels.

``parse(language, data, text)`` turns one file's bytes into definitions, references and imports
using the grammar's own tags query (``TAGS_QUERY`` or ``queries/tags.scm`` in its wheel) plus the
small queries shipped in ``codeassist/index/queries/`` (``<lang>-tags.scm`` where a grammar has
none, ``<lang>-extra.scm`` for more references, ``<lang>-imports.scm``). Positions are 0-based
lines and 0-based columns in ``str`` characters.
"""

from __future__ import annotations

import importlib
import re
import sys
from array import array
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import tree_sitter as ts

from codeassist.errors import IndexError_

__all__ = [
    "DefTuple",
    "Parsed",
    "RefTuple",
    "pack_positions",
    "parse",
    "syntax_errors",
    "unpack_positions",
]

# (name, kind, line, col, end_line, end_col, signature, scope)
DefTuple = tuple[str, str, int, int, int, int, str, str]
# (name, line, col)
RefTuple = tuple[str, int, int]

# language -> (module, language() function name, where its tags query lives)
_GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
    "java": ("tree_sitter_java", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
    "ruby": ("tree_sitter_ruby", "language"),
    "csharp": ("tree_sitter_c_sharp", "language"),
    "php": ("tree_sitter_php", "language_php"),
    "bash": ("tree_sitter_bash", "language"),
}
# TypeScript's tags.scm holds only what JavaScript's lacks; both apply.
_TAGS_FROM: dict[str, tuple[str, ...]] = {"typescript": ("javascript",), "tsx": ("javascript",)}
_SIGNATURE_MAX = 200
_RawDef = tuple[ts.Node, ts.Node, str]  # (definition node, name node, kind)
_SPACES = re.compile(r"\s+")


@dataclass
class Parsed:
    defs: list[DefTuple] = field(default_factory=list)
    refs: list[RefTuple] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)
    _ref_rows: list[tuple[str, int, bytes]] | None = None

    def ref_rows(self) -> list[tuple[str, int, bytes]]:
        """References grouped by name: (name, count, packed positions); computed once."""
        if self._ref_rows is None:
            grouped: dict[str, list[int]] = {}
            for name, line, col in self.refs:
                grouped.setdefault(name, []).extend((line, col))
            self._ref_rows = [(name, len(pos) // 2, pack_positions(pos)) for name, pos in grouped.items()]
        return self._ref_rows


def pack_positions(flat: list[int]) -> bytes:
    """[line, col, line, col, ...] as little-endian uint32s (the index stores references so)."""
    packed = array("I", flat)
    if sys.byteorder != "little":
        packed.byteswap()
    return packed.tobytes()


def unpack_positions(blob: bytes) -> list[tuple[int, int]]:
    packed = array("I")
    packed.frombytes(blob)
    if sys.byteorder != "little":
        packed.byteswap()
    return list(zip(packed[0::2], packed[1::2], strict=True))


@dataclass
class _Grammar:
    parser: ts.Parser
    query: ts.Query  # definition, reference and import patterns: one pass over the tree
    is_def: tuple[bool, ...]  # per pattern: a definition (its @name belongs to its node)


def _own_query(name: str) -> str:
    resource = resources.files("codeassist.index") / "queries" / name
    return resource.read_text(encoding="utf-8") if resource.is_file() else ""


def _wheel_tags(language: str) -> str:
    module_name, _ = _GRAMMARS[language]
    module = importlib.import_module(module_name)
    text: str | None = getattr(module, "TAGS_QUERY", None)
    if text is None and module.__file__ is not None:
        scm = Path(module.__file__).parent / "queries" / "tags.scm"
        text = scm.read_text(encoding="utf-8") if scm.is_file() else None
    return text or ""


@cache
def _grammar(language: str) -> _Grammar:
    module_name, func = _GRAMMARS[language]
    try:
        module = importlib.import_module(module_name)
        lang = ts.Language(getattr(module, func)())
    except ImportError as exc:
        raise IndexError_(
            f"The tree-sitter grammar for {language} ({module_name}) is not installed.",
            hint=f"Install it with `pip install {module_name.replace('_', '-')}`.",
        ) from exc
    parts = [_wheel_tags(base) for base in _TAGS_FROM.get(language, ())]
    parts += [_wheel_tags(language), _own_query(f"{language}-tags.scm"), _own_query(f"{language}-extra.scm")]
    parts.append(_own_query(f"{language}-imports.scm"))
    source = "\n".join(parts)
    try:
        query = ts.Query(lang, source)
    except ts.QueryError as exc:
        raise IndexError_(
            f"The tags query for {language} does not compile: {exc}.",
            hint="Reinstall codeassist and the tree-sitter grammar wheels.",
        ) from exc
    raw = source.encode("utf-8")
    is_def: list[bool] = []
    for index in range(query.pattern_count):
        text = raw[query.start_byte_for_pattern(index) : query.end_byte_for_pattern(index)]
        is_def.append(b"@definition." in text)
        if not is_def[-1] and b"@reference." not in text and b"@import" not in text:
            query.disable_pattern(index)  # e.g. doc-comment patterns: nothing the index keeps
    # one pass of all patterns costs about half of a definitions pass plus a references pass
    return _Grammar(ts.Parser(lang), query, tuple(is_def))


class _Columns:
    """Byte columns (tree-sitter) to ``str`` columns; a no-op for ASCII text."""

    def __init__(self, data: bytes, text: str) -> None:
        self.ascii = len(data) == len(text)
        self._lines: list[bytes] | None = None
        self._data = data

    def __call__(self, row: int, byte_col: int) -> int:
        if self.ascii or byte_col == 0:
            return byte_col
        if self._lines is None:
            self._lines = self._data.split(b"\n")
        return len(self._lines[row][:byte_col].decode("utf-8", "replace"))


def _outer(node: ts.Node) -> ts.Node:
    """C/C++ tag the declarator; the definition is its parent (with the return type and body)."""
    while node.type.endswith("declarator") and node.parent is not None:
        node = node.parent
    return node


def _signature(node: ts.Node, data: bytes) -> str:
    body = node.child_by_field_name("body")
    start = node.start_byte
    if body is not None and body.start_byte > start:
        end = body.start_byte
        for child in node.children:  # stop before comments between the header and the body
            if child.start_byte >= body.start_byte:
                break
            if "comment" in child.type:
                end = min(end, child.start_byte)
    else:
        newline = data.find(b"\n", start, node.end_byte)
        end = node.end_byte if newline < 0 else newline
    text = _SPACES.sub(" ", data[start:end].decode("utf-8", "replace")).strip().rstrip("{").rstrip()
    return text if len(text) <= _SIGNATURE_MAX else text[: _SIGNATURE_MAX - 1] + "…"


def _node_text(node: ts.Node) -> str:
    raw = node.text
    return raw.decode("utf-8", "replace") if raw is not None else ""


def parse(language: str, data: bytes, text: str) -> Parsed:
    """Definitions, references and imports of one file (``text`` is ``data`` decoded)."""
    grammar = _grammar(language)
    root = grammar.parser.parse(data).root_node
    cols = _Columns(data, text)
    raw_defs: list[_RawDef] = []
    seen_defs: set[int] = set()
    ref_nodes: list[ts.Node] = []
    import_nodes: list[ts.Node] = []
    is_def = grammar.is_def
    for index, captures in ts.QueryCursor(grammar.query).matches(root):
        names = captures.get("name")
        if not is_def[index]:
            if names:
                ref_nodes += names
            if "import" in captures:
                import_nodes += captures["import"]
            continue
        if not names or names[0].start_byte in seen_defs:
            continue
        seen_defs.add(names[0].start_byte)
        for capture, nodes in captures.items():
            if capture.startswith("definition."):
                raw_defs.append((_outer(nodes[0]), names[0], capture[11:]))
                break
    refs: list[RefTuple] = []
    ascii_text = cols.ascii
    for node in ref_nodes:  # a definition's own name is no reference to it
        start = node.start_byte
        if start in seen_defs:
            continue
        seen_defs.add(start)  # also drops a node two reference patterns captured
        row, col = node.start_point
        name = data[start : node.end_byte].decode("utf-8", "replace")
        refs.append((name, row, col if ascii_text else cols(row, col)))
    imports = [_node_text(node).strip("\"'<>` ") for node in import_nodes]
    return Parsed(_with_scopes(raw_defs, data, cols), refs, list(dict.fromkeys(i for i in imports if i)))


def _with_scopes(raw_defs: list[_RawDef], data: bytes, cols: _Columns) -> list[DefTuple]:
    """Give each definition its enclosing scope ("Outer.Inner"); functions in classes are methods."""
    spans = sorted(
        ((node.start_byte, -node.end_byte, node, name_node, kind) for node, name_node, kind in raw_defs),
        key=lambda item: item[:2],
    )
    stack: list[tuple[int, str, str]] = []  # (end_byte, name, kind)
    out: list[DefTuple] = []
    for start, neg_end, node, name_node, kind in spans:
        end = -neg_end
        name = _node_text(name_node)
        while stack and stack[-1][0] <= start:
            stack.pop()
        if kind == "function" and stack and stack[-1][2] in ("class", "interface"):
            kind = "method"
        scope = ".".join(entry[1] for entry in stack)
        row, col = name_node.start_point
        end_row, end_col = node.end_point
        out.append(
            (name, kind, row, cols(row, col), end_row, cols(end_row, end_col), _signature(node, data), scope)
        )
        stack.append((end, name, kind))
    return out


def syntax_errors(language: str, text: str) -> list[int]:
    """The 0-based lines of the syntax errors tree-sitter finds in ``text`` (ERROR and MISSING
    nodes, outermost only), in source order; empty when the text parses cleanly."""
    root: Any = _grammar(language).parser.parse(text.encode("utf-8")).root_node
    lines: list[int] = []
    stack = [root] if root.has_error else []
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            lines.append(node.start_point[0])
            continue
        stack.extend(child for child in reversed(node.children) if child.has_error or child.is_missing)
    return lines
