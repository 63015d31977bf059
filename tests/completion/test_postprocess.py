"""Golden tests, one table per post-processing rule, plus the whole pipeline."""

from __future__ import annotations

import pytest

from codeassist.completion.postprocess import (
    Surroundings,
    answer_complete,
    cut_at_fence,
    cut_at_repeated_line,
    cut_where_suffix_resumes,
    drop_if_code_follows_unretyped,
    drop_if_repeats_next_line,
    enforce_min_length,
    leading_fence,
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
    # the answer's last line is the following line again, indentation and all: a block closed twice
    ("int applyAsInt(double value);\n}", around("    ", "", "}", ""), "int applyAsInt(double value);"),
    ("foo();\n    }", around("        ", "", "", "}"), "foo();\n    }"),  # closes the inner block
    # lines put above the cursor's line of code: that line is the one that follows
    ("  foo();\n}", around("", "}", "", "x = 1"), "  foo();"),
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


# ---- where the text after the cursor matters: lines opened above code, a model that saw it ----
def fim(line_prefix: str = "", line_suffix: str = "", *next_lines: str, stop: str = "eos") -> Surroundings:
    return Surroundings(line_prefix, line_suffix, tuple(next_lines), suffix_seen=True, stop=stop)


@pytest.mark.parametrize(("surr", "opens", "mid"), [
    (around("", "    return x"), True, False),  # column 0 of a line of code: lines go above it
    (around("    ", "return x"), False, True),  # in the indentation: finishing that line
    (around("f(", ")"), False, True),
    (around("", ""), False, False),
    (around("x = ", "  "), False, False),
])
def test_where_the_cursor_is(surr: Surroundings, opens: bool, mid: bool) -> None:
    assert (surr.opens_lines, surr.mid_line) == (opens, mid)


def test_lines_opened_above_code_may_be_several() -> None:
    lines = "    x = 1\n    y = 2"
    assert single_line_when_mid_line(lines, around("", "    return x")) == lines


@pytest.mark.parametrize(("raw", "surr", "expected"), [
    # the line at the cursor is the first of the following lines
    ("    x = 1\n    return x\n", around("", "    return x", "y = 2"), "    x = 1"),
    ("    return x", around("", "    return x"), ""),
    ("    x = 1", around("", "    return x"), "    x = 1"),
])
def test_cut_where_suffix_resumes_above_code(raw: str, surr: Surroundings, expected: str) -> None:
    assert cut_where_suffix_resumes(raw, surr) == expected


@pytest.mark.parametrize(("raw", "surr", "expected"), [
    # a FIM model wrote its answer to go in front of the code after the cursor: kept
    ("abs(elem - ", fim("        distance = ", "elem2)"), "abs(elem - "),
    # lines opened above a line of code do not touch it
    ("    x = 1", around("", "    return x"), "    x = 1"),
])
def test_code_after_the_cursor_is_fine_when_the_model_saw_it(raw: str, surr: Surroundings,
                                                               expected: str) -> None:
    assert drop_if_code_follows_unretyped(raw, surr) == expected


def test_trim_suffix_overlap_leaves_lines_opened_above_code() -> None:
    assert trim_suffix_overlap("    return x", around("", "    return x")) == "    return x"


@pytest.mark.parametrize(("raw", "surr", "expected"), [
    ("    return x", around("", "    return x"), ""),
    ("    y = x", around("", "    return x"), "    y = x"),
])
def test_drop_if_repeats_the_line_below_opened_lines(raw: str, surr: Surroundings, expected: str) -> None:
    assert drop_if_repeats_next_line(raw, surr) == expected


@pytest.mark.parametrize(("raw", "surr", "expected"), [
    # mid-line, the space before the code after the cursor is kept ...
    ("return ", around("    ", "x"), "return "),
    # ... unless that code starts with one; several lines and ends of lines are stripped
    ("return ", around("    ", " x"), "return"),
    ("a  \nb ", around("", ""), "a\nb"),
])
def test_strip_trailing_whitespace_mid_line(raw: str, surr: Surroundings, expected: str) -> None:
    assert strip_trailing_whitespace(raw, surr) == expected


@pytest.mark.parametrize(("raw", "stop", "expected"), [
    # cut off by a limit: the unfinished last line goes
    ("if x:\n    return y\n    el", "limit", "if x:\n    return y"),
    ("if x:\n    return y\n", "limit", "if x:\n    return y\n"),
    ("return y", "limit", "return y"),  # one line: all there is
    ("if x:\n    return y", "eos", "if x:\n    return y"),
])
def test_drop_cut_off_line(raw: str, stop: str, expected: str) -> None:
    from codeassist.completion.postprocess import drop_cut_off_line

    assert drop_cut_off_line(raw, Surroundings("    ", "", (), stop=stop)) == expected


@pytest.mark.parametrize(("raw", "surr", "expected"), [
    ("    x = 1", around("", "    return x"), "    x = 1\n"),
    ("", around("", "    return x"), ""),
    ("x = 1", around("    ", ""), "x = 1"),
])
def test_end_with_line_break(raw: str, surr: Surroundings, expected: str) -> None:
    from codeassist.completion.postprocess import end_with_line_break

    assert end_with_line_break(raw, surr) == expected


@pytest.mark.parametrize(("text", "line_suffix", "covered"), [
    # auto-closed brackets and quotes that the suggestion contains are replaced
    (": Circle) -> float:", ")", 1),
    ('name"]', '"]', 2),
    ("a, b)", ")  ", 3),
    ("x);", ");", 2),
    ("x) {", ") {", 0),  # an opening brace is not auto-closed text
    # a bracket the suggestion opens and closes itself is not the one after the cursor
    ("str(i) for i in range(n + 1)", ")", 0),
    ("str(i) for i in range(n + 1))", ")", 1),
    ("b, c')", "')", 2),  # the quote the suggestion closes, then the bracket
    ("'a', 'b'", "'", 0),  # its own quotes, balanced
    # not contained, code after the cursor, several lines, nothing after the cursor: an insertion
    ("a, b", ")", 0),
    ("a)", "b)", 0),
    (": Circle)\n    pass", ")", 0),
    ("x", "", 0),
])
def test_replaced_suffix(text: str, line_suffix: str, covered: int) -> None:
    from codeassist.completion.postprocess import replaced_suffix

    assert replaced_suffix(text, line_suffix) == covered


@pytest.mark.parametrize(("raw", "surr", "expected"), [
    # whole lines in front of a line of code (HumanEval's multi-line holes): kept, with the break
    ("        if x:\n            return y\n", fim("", "    return None", "", "def g():"),
     "        if x:\n            return y\n"),
    # a FIM model that ended by itself may leave the block: that is where its answer ends
    ("            return True\n        i += 1\n", fim("", "    return False"),
     "            return True\n        i += 1\n"),
    # ... cut off by a limit: the unfinished line goes, the lines above the code that follows
    # (indented at least as deep as it) stay
    ("            return True\n        i += 1\n    x", fim("", "    return False", stop="limit"),
     "            return True\n        i += 1\n"),
    # a FIM answer that does not end writes on past the hole: cut at the first line indented
    # less than the code after the hole, then where that code resumes; the hole may leave the
    # cursor's block (after `return False` in an `if`)
    ("\n    for i in range(2, n):\n        if n % i == 0:\n            return False\n    return True\n\n"
     "# Test cases\nprint(is_prime(6))", fim("        return False", "", "    return True", "", stop="limit"),
     "\n    for i in range(2, n):\n        if n % i == 0:\n            return False"),
    # ... also when the model ended its answer itself, after a fence and an explanation
    ("if m < 1:\n            return False\n    return True\n```\n\nThis function checks",
     fim("        ", "", "        if d < 1:", stop="eos"), "if m < 1:\n            return False"),
    # a nested block leading down to the code after the hole is no end
    ("\n    for x in xs:\n        if x:\n", fim("    total = 0", "", "            total += x", stop="limit"),
     "\n    for x in xs:\n        if x:"),
    # ... a chain of them, statements in between, down to the code
    ("    for a in xs:\n        for b in xs:\n            if a != b:\n                d = a - b\n"
     "                if d < t:\n", fim("", "                    return True", stop="limit"),
     "    for a in xs:\n        for b in xs:\n            if a != b:\n                d = a - b\n"
     "                if d < t:\n"),
    # a block opener whose body the answer writes at the level of the code after the hole: that
    # code is the body, the opener is the hole
    ("    for i in range(2, n):\n        if all(i % j for j in range(2, i)):\n            p.append(i)\n",
     fim("", "        is_prime = True", "        for j in range(2, i):", stop="limit"),
     "    for i in range(2, n):\n"),
    (" i < n:\n        i += 1\n    if n > 1:\n        f(n)\n    return f\n",
     fim("    while", "", "        if n % i:", stop="limit"), " i < n:"),
    # ... not when the model ended the answer itself: where it stops is meant
    ("    for i in range(2, n):\n        if i % 2:\n            p.append(i)\n",
     fim("", "        is_prime = True", stop="eos"),
     "    for i in range(2, n):\n        if i % 2:\n            p.append(i)\n"),
    # an answer that starts deeper than the code after the hole and comes back to its level has
    # left the hole: the document goes on there
    ("        i += 1\n    return result\n", fim("", "    result = sum(digits)", stop="limit"),
     "        i += 1\n"),
    ("            t = xs.count(x)\n    return counts\n", fim("", "    if t > 0:", "        d[x] = t",
                                                             stop="limit"),
     "            t = xs.count(x)\n"),
    # a later line at the level of the code after the hole that ends the flow: that code would
    # never run, so the hole ended before it
    ("    d = 'abc'\n    return encrypt(s)\n", fim("", "    out = ''", "    for c in s:", stop="limit"),
     "    d = 'abc'\n"),
    ("  n++;\n  return n;\n", fim("", "  log(n);", stop="limit"), "  n++;\n"),
    # ... deeper, it ends only its own block
    ("    if x:\n        return 1\n", fim("", "    y = 2", stop="limit"), "    if x:\n        return 1\n"),
    # ... it may dedent on its way while still deeper than that code
    ("            if c:\n                n += 1\n        total += n\n    return total\n",
     fim("", "    return total // 2", stop="limit"),
     "            if c:\n                n += 1\n        total += n\n"),
    # nothing after the hole (end of file): the answer may dedent within the block and ends at
    # its first line at column 0
    ("            end = center\n    return begin\n\n\ndef poly(xs):\n    pass",
     fim("", "", stop="limit"), "            end = center\n    return begin"),
    # a block opener in front of code at its own level is a syntax error: dropped
    ("    if n == 0:\n        return 0\n    elif n == 1:\n        return 1\n    else:\n",
     fim("", "    return fib(n - 1)", stop="limit"),
     "    if n == 0:\n        return 0\n    elif n == 1:\n        return 1\n"),
    # mid-line, the answer runs into the code after the cursor: cut there
    (".isupper() else 0)", fim("    return sum(ord(c) if c", " else 0 for c in s)", stop="word"),
     ".isupper()"),
    ("N)[2:]", fim("    return bin(", ")[2:]", stop="word"), ""),  # "N": one character, noise
    # ... but not at a partial word (`elem` of `elem2`)
    ("abs(elem - ", fim("        distance = ", "elem2)", stop="word"), "abs(elem - "),
    # a prefix-only model at the same place: the scope rule applies
    ("            return True\n        i += 1\n", Surroundings("", "    return False", ()),
     "            return True\n"),
    # mid-line, FIM: the answer goes in front of the code after the cursor, spaces and all
    ("abs(elem - ", fim("        distance = ", "elem2)"), "abs(elem - "),
    # a FIM model that ended by itself after one character meant it (a prefix-only one: noise)
    (")", fim("    return abs(x", ""), ")"),
    (")", fim("    return abs(x", "", stop="limit"), ""),
    # repeated lines are legitimate in a FIM answer that ended by itself
    ("    if a:\n        return False\n    if b:\n        return False\n", fim("", "    return True"),
     "    if a:\n        return False\n    if b:\n        return False\n"),
])
def test_postprocess_pipeline_with_the_suffix(raw: str, surr: Surroundings, expected: str) -> None:
    assert postprocess(raw, surr) == expected


def fim(line_prefix: str = "", line_suffix: str = "", *next_lines: str) -> Surroundings:
    return Surroundings(line_prefix, line_suffix, tuple(next_lines), suffix_seen=True)


@pytest.mark.parametrize(("streamed", "surr", "complete"), [
    # nothing finished yet: no line has ended
    ("    total += x", fim("", "", "    return total"), False),
    # finished lines that stay inside the hole: go on
    ("    total += x\n", fim("", "", "    return total"), False),
    ("if a:\n        b()\n", fim("    ", "", "    return c"), False),
    # a FIM model writing past the hole: the test code at column 0 below an indented body
    ("    total += x\n    return total\n\n\nprint(", fim("", "", "    return total"), True),
    ("    total += x\n\nassert f(", fim("", "", "    return total"), False),  # the line is not done
    ("    total += x\n\nassert f(1) == 2\n", fim("", "", "    return total"), True),
    # a Markdown explanation after the code
    ("return c.state\n}\n```\n", fim("\t", "", "\tc.mu.Unlock()", "}"), True),
    # a fence where the hole's code should be (at the level the answer started at)
    ("\n```\n", fim("", "", "    except ValueError:"), True),
    ("        x = 1\n        ```\n", fim("", "", "        return x"), True),
    # a loop repeating its lines
    ("a = f(x)\nb = g(a)\na = f(x)\n", fim("    ", "", "", "x = 1"), True),
    # the code after the hole starts again
    ("    total += x\n    return total\n", fim("", "", "    return total", ""), True),
    # without the suffix seen: the block left by a dedent
    ("x = 1\n    y = 2\nclass Z:\n", around("    "), True),
    ("x = 1\n    y = 2\n", around("    "), False),
    # mid-line one line is all there is
    ("a, b)\n", around("    f(", ")"), True),
])
def test_answer_complete(streamed: str, surr: Surroundings, complete: bool) -> None:
    assert answer_complete(streamed, surr) is complete
    if complete:  # what the pipeline shows is the same whether generation stopped here or went on
        more = streamed + "    more = 1\nprint(more)\n"
        assert postprocess(streamed, surr) == postprocess(more, surr)


@pytest.mark.parametrize(("raw", "surr", "expected"), [
    # an instruct model's explanation after its code, and a fence where the code should be
    ("    x = 1\n```\n\nThis sets x.", around("", "    return x"), "    x = 1"),
    ("\n```\n\nThis function checks...", around("", "    except ValueError:"), ""),
    ("        ```python", around("        "), ""),
    ("x = 1\n~~~\n", around(""), "x = 1"),
    # in Markdown, fences belong to the document
    ("```python\nprint(1)\n```\n", Surroundings("", "", (), prose=True), "```python\nprint(1)\n```\n"),
    # and where the document has a fence after the cursor (a docstring with a fenced example)
    ("    >>> f(1)\n    ```\n", around("", "", "    ```", '    """'), "    >>> f(1)\n    ```\n"),
    # no fence: as it was
    ("    x = 1\n    return x\n", around(""), "    x = 1\n    return x\n"),
])
def test_cut_at_fence(raw: str, surr: Surroundings, expected: str) -> None:
    assert cut_at_fence(raw, surr) == expected


def test_leading_fence() -> None:
    # the whole answer is a fence and prose: where the fence starts, for the model's next choice
    assert leading_fence("\n```\n\nThis function...", around("", "    except ValueError:")) == 1
    assert leading_fence("  ```", around("")) == 2
    # code first, or a prose document: none
    assert leading_fence("    x = 1\n```\n", around("")) is None
    assert leading_fence("```\n", Surroundings("", "", (), prose=True)) is None
