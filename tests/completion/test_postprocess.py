"""Golden tests, one table per post-processing rule, plus the whole pipeline."""

from __future__ import annotations

import pytest

from codeassist.completion.postprocess import (
    Surroundings,
    cut_at_repeated_line,
    cut_where_suffix_resumes,
    drop_if_code_follows_unretyped,
    drop_if_repeats_next_line,
    enforce_min_length,
    postprocess,
    single_line_when_mid_line,
    stop_at_scope_end,
    strip_trailing_whitespace,
    trim_suffix_overlap,
)


def around(line_prefix: str = "", line_suffix: str = "", *next_lines: str) -> Surroundings:
    return Surroundings(line_prefix, line_suffix, tuple(next_lines))


@pytest.mark.parametrize(("raw", "surr", "expected"), [
    # text after the cursor: only the rest of the line
    ("a, b)\n    return x", around("    f(", ")"), "a, b)"),
    # nothing after the cursor (or only spaces): several lines allowed
    ("a = 1\nb = 2", around("", ""), "a = 1\nb = 2"),
    ("a = 1\nb = 2", around("", "   "), "a = 1\nb = 2"),
])
def test_single_line_when_mid_line(raw: str, surr: Surroundings, expected: str) -> None:
    assert single_line_when_mid_line(raw, surr) == expected


@pytest.mark.parametrize(("raw", "surr", "expected"), [
    # body of a block opener ends back at the opener's indentation
    ("\n    return 1\n\ndef bar():\n    pass", around("def foo():"), "\n    return 1\n"),
    # inside a body: stops at the first line indented less than the cursor line
    ("x = 1\n    y = 2\nclass Z:", around("    "), "x = 1\n    y = 2"),
    # nested blocks stay
    ("if a:\n        b()\n    c()\nd()", around("    "), "if a:\n        b()\n    c()"),
    # a closing brace at the opener's level is kept and ends the block
    ("\n  return 1;\n}\nfunction g() {}", around("function f() {"), "\n  return 1;\n}"),
    # empty cursor line: the first generated line sets the scope
    ("\n    a = 1\n    b = 2\nc = 3", around(""), "\n    a = 1\n    b = 2"),
    # one line is left alone
    ("return x", around("    "), "return x"),
])
def test_stop_at_scope_end(raw: str, surr: Surroundings, expected: str) -> None:
    assert stop_at_scope_end(raw, surr) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    # a model in a loop: cut where the lines come again
    ("0\n    config = parse(text)\n    print(config)\n    print(text)\n    print(config)\n    print(text)",
     "0\n    config = parse(text)\n    print(config)\n    print(text)"),
    ("a = f(x)\na = f(x)", "a = f(x)"),
    # short lines and punctuation may repeat: closing braces, pass, else
    ("if a:\n    pass\nelse:\n    pass\n}\n}", "if a:\n    pass\nelse:\n    pass\n}\n}"),
    ("total += 1\nreturn total", "total += 1\nreturn total"),
])
def test_cut_at_repeated_line(raw: str, expected: str) -> None:
    assert cut_at_repeated_line(raw) == expected


@pytest.mark.parametrize(("raw", "surr", "expected"), [
    # the suggestion runs into the lines that already follow: cut there
    ("total = 0\n    for x in xs:\n        total += x\n    return total",
     around("    ", "", "    return total", ""), "total = 0\n    for x in xs:\n        total += x"),
    # a short following line only counts when the next one matches too
    ("a()\n}\nb()", around("  ", "", "}", "c()"), "a()\n}\nb()"),
    ("a()\n}\nc()", around("  ", "", "}", "c()"), "a()"),
    # no following lines: unchanged
    ("a()\nb()", around("", ""), "a()\nb()"),
])
def test_cut_where_suffix_resumes(raw: str, surr: Surroundings, expected: str) -> None:
    assert cut_where_suffix_resumes(raw, surr) == expected


@pytest.mark.parametrize(("raw", "surr", "expected"), [
    # a word right after the cursor: a suggestion that does not run into it would garble the line
    ('"""Area of a circle."""', around("        ", "return math.pi * r ** 2"), ""),
    ("x", around("foo(", "bar)"), ""),
    # ... one that retypes it is kept (the overlap rule trims the retyped part)
    ("self.radius * 2", around("        return ", "2"), "self.radius * 2"),
    ("a, y)", around("x = foo(", "y)"), "a, y)"),
    # closers, quotes and punctuation after the cursor are fine
    ("name", around('d["', '"]'), "name"),
    ("a, b", around("f(", ");"), "a, b"),
    ("x = 1", around("    ", ""), "x = 1"),
])
def test_drop_if_code_follows_unretyped(raw: str, surr: Surroundings, expected: str) -> None:
    assert drop_if_code_follows_unretyped(raw, surr) == expected


@pytest.mark.parametrize(("raw", "surr", "expected"), [
    # the whole rest of the line retyped
    ("a, y)", around("x = foo(", ", y)"), "a"),
    ('name"]', around('d["', '"]'), "name"),
    # a closer the line needs is kept ...
    ("a)", around("print(foo(", ")"), "a)"),
    # ... one that over-closes the line is dropped
    ("a)", around("foo(", ")"), "a"),
    ("a))", around("foo(bar(", "))"), "a"),
    ("b)", around("foo(a(", "))"), "b"),
    # no text after the cursor, or several lines: unchanged
    ("a)", around("foo(", ""), "a)"),
    ("a\nb)", around("foo(", ")"), "a\nb)"),
])
def test_trim_suffix_overlap(raw: str, surr: Surroundings, expected: str) -> None:
    assert trim_suffix_overlap(raw, surr) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("x = 1   \n  y = 2\t\n\n\n", "x = 1\n  y = 2"),
    ("   ", ""),
    ("\n    return 1  ", "\n    return 1"),
])
def test_strip_trailing_whitespace(raw: str, expected: str) -> None:
    assert strip_trailing_whitespace(raw) == expected


@pytest.mark.parametrize(("raw", "surr", "expected"), [
    # the suggested line is the one that follows: nothing
    ("return total", around("    ", "", "", "    return total"), ""),
    # the first new line of a block-opening suggestion repeats what follows
    ("\n    return 1", around("def f():", "", "    return 1"), ""),
    # mid-line: the finished line is compared
    ("b", around("a", "c", "abc"), ""),
    # different line: kept
    ("return x", around("    ", "", "    return total"), "return x"),
])
def test_drop_if_repeats_next_line(raw: str, surr: Surroundings, expected: str) -> None:
    assert drop_if_repeats_next_line(raw, surr) == expected


@pytest.mark.parametrize(("raw", "minimum", "expected"), [
    ("x", 2, ""),
    (" )\n", 2, ""),
    ("x)", 2, "x)"),
    ("x", 1, "x"),
])
def test_enforce_min_length(raw: str, minimum: int, expected: str) -> None:
    assert enforce_min_length(raw, minimum) == expected


@pytest.mark.parametrize(("raw", "surr", "expected"), [
    ("\r\n    return a + b  \r\n\r\ndef other():\r\n", around("def add(a, b):", "", ""),
     "\n    return a + b"),
    ("items, key=len)  \nprint(x)", around("    ordered = sorted(", ")"), "items, key=len"),
    ("pass", around("    ", "", "    pass"), ""),
    ("  ", around("x = ", ""), ""),
])
def test_postprocess_pipeline(raw: str, surr: Surroundings, expected: str) -> None:
    assert postprocess(raw, surr) == expected
