"""Position conversions and code-action helpers on real pygls documents (utf-8 and utf-16)."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pygls.workspace import TextDocument
from pygls.workspace.position_codec import PositionCodec

from codeassist.index import Symbol
from codeassist_lsp import convert as cv

TEXT = 'x = "😋é" + name\n    # make a list of squares\nlast'


def doc(encoding: types.PositionEncodingKind) -> TextDocument:
    return TextDocument("file:///tmp/a.py", TEXT, version=1, language_id="python",
                        position_codec=PositionCodec(encoding))


@pytest.mark.parametrize(("encoding", "client_col"), [
    (types.PositionEncodingKind.Utf16, 11),  # 😋 is two UTF-16 units
    (types.PositionEncodingKind.Utf8, 14),  # 😋 is four bytes, é two
    (types.PositionEncodingKind.Utf32, 10),
])
def test_columns_round_trip_in_the_negotiated_encoding(encoding: types.PositionEncodingKind,
                                                       client_col: int) -> None:
    d = doc(encoding)
    line, col = cv.to_core_position(d, types.Position(line=0, character=client_col))
    assert (line, col) == (0, 10)
    assert TEXT.splitlines()[0][:col] == 'x = "😋é" +'
    answer = cv.inline_list(d, line, col, ["foo", ""])
    assert [item.insert_text for item in answer.items] == ["foo"]
    assert answer.items[0].range == types.Range(start=types.Position(line=0, character=client_col),
                                                end=types.Position(line=0, character=client_col))


def test_positions_past_the_end_are_clamped() -> None:
    d = doc(types.PositionEncodingKind.Utf16)
    assert cv.to_core_position(d, types.Position(line=0, character=999)) == (0, len(TEXT.splitlines()[0]))
    assert cv.to_core_position(d, types.Position(line=99, character=3)) == (2, 3)


def test_the_empty_line_after_a_final_newline_is_a_real_position() -> None:
    d = TextDocument("file:///tmp/b.py", "import os\n", version=1, language_id="python",
                     position_codec=PositionCodec(types.PositionEncodingKind.Utf16))
    assert cv.to_core_position(d, types.Position(line=1, character=0)) == (1, 0)
    assert cv.to_core_position(d, types.Position(line=5, character=2)) == (1, 0)
    answer = cv.inline_list(d, 1, 0, ["import sys"])
    assert answer.items[0].range.start == types.Position(line=1, character=0)


def test_instruction_from_a_comment_and_the_snippet_edit() -> None:
    d = doc(types.PositionEncodingKind.Utf16)
    cursor = types.Position(line=1, character=6)
    where = cv.instruction_at(d, types.Range(start=cursor, end=cursor))
    assert where == cv.Instruction(text="make a list of squares", insert_line=2, indent="    ")
    edit = cv.snippet_edit(d, where, "squares = [i * i for i in range(10)]\n")
    assert edit.changes is not None
    (change,) = edit.changes[d.uri]
    assert change.range.start == types.Position(line=2, character=0)
    assert change.new_text == "    squares = [i * i for i in range(10)]\n"


def test_no_instruction_on_a_plain_code_line() -> None:
    d = doc(types.PositionEncodingKind.Utf16)
    cursor = types.Position(line=0, character=2)
    assert cv.instruction_at(d, types.Range(start=cursor, end=cursor)) is None


def test_a_selection_is_the_instruction() -> None:
    d = doc(types.PositionEncodingKind.Utf16)
    rng = types.Range(start=types.Position(line=2, character=0), end=types.Position(line=2, character=4))
    where = cv.instruction_at(d, rng)
    assert where is not None and where.text == "last" and where.insert_line == 3
    edit = cv.snippet_edit(d, where, "print(last)")
    assert edit.changes is not None
    (change,) = edit.changes[d.uri]
    assert change.new_text == "\nprint(last)\n"  # the last line has no newline
    assert change.range.start == types.Position(line=2, character=4)


def test_document_symbols_nest_by_range() -> None:
    text = "class A:\n    def f(self):\n        pass\n\ndef g():\n    pass\n"
    d = TextDocument("file:///tmp/b.py", text, version=1)
    symbols = [
        Symbol("f", "method", "b.py", 1, 4, 2, 12, "def f(self):", "A"),
        Symbol("A", "class", "b.py", 0, 0, 2, 12, "class A:", ""),
        Symbol("g", "function", "b.py", 4, 0, 5, 8, "def g():", ""),
    ]
    roots = cv.document_symbols(d, symbols)
    assert [s.name for s in roots] == ["A", "g"]
    assert roots[0].kind == types.SymbolKind.Class
    assert [c.name for c in roots[0].children or []] == ["f"]
    assert roots[0].children[0].kind == types.SymbolKind.Method  # type: ignore[index]
    assert roots[0].selection_range.end == types.Position(line=0, character=1)


def test_an_item_replaces_the_auto_closed_bracket_it_contains() -> None:
    text = "def perimeter(circle)\nx = f(😋)\n"
    d = TextDocument("file:///tmp/c.py", text, version=1, language_id="python",
                     position_codec=PositionCodec(types.PositionEncodingKind.Utf16))
    (item,) = cv.inline_list(d, 0, 20, [": Circle) -> float:"]).items
    assert item.range == types.Range(start=types.Position(line=0, character=20),
                                     end=types.Position(line=0, character=21))
    # accepted as an editor does: the range's text goes, the suggestion comes
    assert text.split("\n")[0][:20] + item.insert_text == "def perimeter(circle: Circle) -> float:"
    # a suggestion without the closer is inserted before it; columns count UTF-16 units
    (plain,) = cv.inline_list(d, 1, 7, [", y"]).items
    assert plain.range is not None
    assert plain.range.start == plain.range.end == types.Position(line=1, character=8)
    (closing,) = cv.inline_list(d, 1, 7, [", y)"]).items
    assert closing.range is not None and closing.range.end == types.Position(line=1, character=9)
