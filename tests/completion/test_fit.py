"""Golden tests of :func:`codeassist.completion.fit.misfit`: a suggestion's first line against the
line above it and its last line against the code after it, in Python and in brace languages; and
of the indentation a rejected line is written again at."""

from __future__ import annotations

import pytest

from codeassist.completion.fit import cut_before, indentation_for, last_code_line, misfit
from codeassist.completion.postprocess import Surroundings


def around(line_prefix: str = "", line_suffix: str = "", *next_lines: str,
           line_above: str = "") -> Surroundings:
    return Surroundings(line_prefix, line_suffix, tuple(next_lines), line_above=line_above)


@pytest.mark.parametrize(("text", "surr", "expected"), [
    # whole lines above the cursor's line of code: a return above the rest of the body
    ("    return res\n", around("", "    while number:", "        div = number // 10"), 4),
    ("    return res\n", around("", "    res += 1"), 4),
    # deeper code after the return would not run either
    ("    return False\n", around("", "                if l1 + l[j] == 0:"), 4),
    # raise, break, continue, throw (with a semicolon)
    ("        raise ValueError(x)\n", around("", "        y = x"), 8),
    ("            break;\n", around("", "            i++;"), 12),
    ("  throw new Error('x');\n", around("", "  const y = 2;"), 2),
    # the return is the suggestion's last line: its earlier lines are left alone
    ("    ans.extend(evens)\n    return ans\n", around("", "    for x in odds:"), 26),
    # a line at column 0 (the model thought the file ended) above a function's indented body
    ("# Test cases\n", around("", "    a, b = x.split('/')"), 0),
    ("print(f(3))\n", around("", "    return n * 2"), 0),
    # the cursor at the end of a line, the suggestion going on below it
    ("\n    return total", around("    total = sum(xs)", "", "    print(total)"), 5),
    # typed by the user on the cursor line: the rest of the return
    ("return res\n", around("    ", "    res = 1"), 0),
])
def test_a_line_that_does_not_fit_the_code_after_it(text: str, surr: Surroundings, expected: int) -> None:
    assert misfit(text, surr) == expected


@pytest.mark.parametrize(("text", "surr"), [
    # the block closes, or the next clause follows, after the return
    ("    return x\n", around("", "}")),
    ("        return x\n", around("", "    else:")),
    ("        return 1\n", around("", "        case 2:")),
    ("        return 1\n", around("", "    except KeyError:")),
    # the code after is outside the returning block: it still runs
    ("        return x\n", around("", "    return y")),
    ("    return x\n", around("", "def g():")),
    # a comment after the return is no code; the code after it is outside the block
    ("    return x\n", around("", "    # the end", "def g():")),
    # a line that opens a block, a bracket or goes on, above deeper code
    ("    if depth == 0:\n", around("", "        return True")),
    ("func main() {\n", around("", "\tfmt.Println(1)")),
    ("    result = compute(a,\n", around("", "                     b)")),
    ("    total = a +\n", around("", "        b")),
    ("    x = foo\n", around("", "        .bar()")),  # a method chain goes on
    # the user typed the start of the line: the suggestion only finishes it
    ("urn res", around("    ret", "", "    x = 1")),
    # nothing known after the suggestion, or nothing suggested
    ("    return x\n", around("", "")),
    ("", around("", "    x = 1")),
    # a fitting line
    ("    res = ''\n", around("", "    while number:")),
    ("            ans += 1\n", around("", "    return ans")),
])
def test_a_line_that_fits(text: str, surr: Surroundings) -> None:
    assert misfit(text, surr) is None


@pytest.mark.parametrize(("text", "offset", "expected"), [
    ("    return res\n", 4, ""),
    ("    ans.extend(evens)\n    return ans\n", 26, "    ans.extend(evens)\n"),
    ("\n    return total", 5, "\n"),
])
def test_cut_before_the_line(text: str, offset: int, expected: str) -> None:
    assert cut_before(text, offset) == expected


@pytest.mark.parametrize(("text", "surr", "expected"), [
    # below a line that opens a body, a line at the opener's level: the body is missing
    ("    return ans\n", around("", "    return ans", line_above="        if n % 2 == 0:"), 4),
    ("        while i < n:\n", around("", "        i += 1", line_above="        if s[i] == '[':"), 8),
    ("\n```\n", around("", "    except ValueError:", line_above="        if day > 29:"), 1),
    # the suggestion's own opener, the code after it at its level: the body is missing
    ("        if day < 1 or day > 31:\n", around("", "        month, day = date.split('-')"), 8),
    ("    else:\n", around("", "    return x"), 4),  # Python's lone-word blocks are blocks
    ("  if (done) {\n", around("", "  count++;"), 2),
    # an opener at the cursor line's end, the suggestion's first line below it at its level
    ("\n    x = 1", around("    for i in xs:", "", "    y = 2"), 5),
])
def test_a_block_without_its_body_does_not_fit(text: str, surr: Surroundings, expected: int) -> None:
    assert misfit(text, surr) == expected


@pytest.mark.parametrize(("text", "surr"), [
    # the body, indented under the opener above
    ("            ans.append(1)\n", around("", "    return ans", line_above="        if n % 2 == 0:")),
    # labels and access specifiers need no deeper line; a block may close at once
    ("    case 2:\n", around("", "    default:", line_above="    case 1:")),
    ("  public:\n", around("", "  int size;")),
    # a lone word and a colon is a label (Go), a YAML key, a docstring's section
    ("retry:\n", around("", "if err := f(); err != nil {")),
    ("    Returns:\n", around("", "    the total, in cents")),
    ("containers:\n", around("", "- name: web")),
    ("  if (done) {\n", around("", "  }")),
    ("} else {\n", around("", "  retry();", line_above="  if (ok) {")),
    # a comment is not the line above: the last line of code is
    ("        total += x\n", around("", "    return total", line_above="    for x in xs:")),
    # the user's own line on the cursor line is not the suggestion's to fit
    (" 1:", around("    if x ==", "", "        y = 2")),
])
def test_a_block_with_its_body_fits(text: str, surr: Surroundings) -> None:
    assert misfit(text, surr) is None


@pytest.mark.parametrize(("text", "surr", "expected"), [
    # below an opener: one step deeper, as the document indents (4 spaces, 2, a tab)
    ("    return ans\n", around("", "    return ans", line_above="        if n % 2 == 0:"), " " * 12),
    ("  x = 1\n", around("", "  y = 2", "  z = 3", line_above="  if (a) {"), "    "),
    ("\tx := 1\n", around("", "\ty := 2", line_above="\tif a {"), "\t\t"),
    # the code after the hole is the opener's body: its indentation
    ("    x = 1\n", around("", "            y = 2", line_above="        for v in vs:"), " " * 12),
    # a line at column 0 above a function's body: the body's indentation
    ("# Test cases\n", around("", "    a, b = x.split('/')"), "    "),
    # a misfit that is not about indentation: none
    ("    return res\n", around("", "    while number:"), None),
])
def test_the_indentation_a_rejected_line_needs(text: str, surr: Surroundings, expected: str | None) -> None:
    offset = misfit(text, surr)
    assert offset is not None
    assert indentation_for(text, offset, surr) == expected


def test_the_last_line_of_code() -> None:
    assert last_code_line(["def f(x):", "    if x:", "        # why", "", ""]) == "    if x:"
    assert last_code_line(["# only a comment", ""]) == ""
