"""Golden tests of :func:`codeassist.completion.fit.misfit`: a suggestion's last line against the
code after it, in Python and in brace languages."""

from __future__ import annotations

import pytest

from codeassist.completion.fit import cut_before, misfit
from codeassist.completion.postprocess import Surroundings


def around(line_prefix: str = "", line_suffix: str = "", *next_lines: str) -> Surroundings:
    return Surroundings(line_prefix, line_suffix, tuple(next_lines))


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
