"""Golden tests of :func:`codeassist.completion.second_choice.heads`: where the answer goes on
from the model's next most likely tokens."""

from __future__ import annotations

from codeassist.completion.second_choice import heads
from codeassist.runtime.params import TokenChoice


def tokens(*pairs: tuple[str | None, tuple[str, ...]]) -> list[TokenChoice]:
    return [TokenChoice(text, alts) for text, alts in pairs]


def test_the_alternatives_to_the_token_that_starts_the_line() -> None:
    raw = "    return res\n"
    choices = tokens(("   ", ("    ", "\t")), (" return", (" res", " while", " print")), (" res", ()),
                     ("\n", ()))
    assert heads(raw, 4, choices) == ["    res", "    while"]
    assert heads(raw, 4, choices, tries=1) == ["    res"]


def test_a_later_line_keeps_the_lines_before_it() -> None:
    raw = "    x = 1\n    return x\n"
    choices = tokens(("    x", ()), (" =", ()), (" 1", ()), ("\n", ()), ("   ", ()),
                     (" return", (" print", " y")), (" x", ()), ("\n", ()))
    assert heads(raw, 14, choices) == ["    x = 1\n    print", "    x = 1\n    y"]


def test_no_line_break_and_not_the_same_word_again() -> None:
    raw = "    return res\n"
    choices = tokens(("    ", ()), ("return", ("ret", "\n", "returns", "  ", "pass")), (" res", ()))
    # "ret" and "returns" start the rejected word again, "\n" is a blank line: an indent, then pass
    assert heads(raw, 4, choices) == ["      ", "    pass"]


def test_a_line_at_column_0_gets_an_indent_instead() -> None:
    raw = "# Test cases\n"
    choices = tokens(("#", ("    ", "if")), (" Test", ()), (" cases", ()), ("\n", ()))
    assert heads(raw, 0, choices) == ["    ", "if"]


def test_nothing_when_the_tokens_do_not_spell_the_answer() -> None:
    raw = "    return res\n"
    assert heads(raw, 4, []) == []
    assert heads(raw, 4, tokens(("    ", ()), ("yield", ("x",)))) == []
    # a token that is part of a character (its text unknown): the offset cannot be placed
    assert heads(raw, 4, tokens((None, ()), ("return", ("x",)))) == []
