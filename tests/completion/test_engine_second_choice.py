"""The second choice for real: Qwen2.5-Coder 0.5B's first answer on an empty line above the rest
of a function is ``return ...`` (the code below would never run); the engine goes on from the
model's next most likely token there, and the accepted suggestion makes a function that works."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codeassist.completion import CompletionEngine, CompletionRequest
from codeassist.completion.request import ask
from codeassist.runtime import LocalRuntime
from tests.completion.conftest import settings_for, small

CASES = {
    "vowels": (
        'def count_vowels(text):\n    """How many vowels text holds."""\n    vowels = "aeiou"\n',
        "    for ch in text.lower():\n        if ch in vowels:\n            total += 1\n    return total\n",
        "count_vowels", ("Education",), 5,
    ),
    "words": (
        'def longest_word(sentence):\n    """The longest word of sentence."""\n'
        "    words = sentence.split()\n",
        "    for word in words:\n        if len(word) > len(best):\n"
        "            best = word\n    return best\n",
        "longest_word", ("a bb ccc dd",), "ccc",
    ),
    "parity": (
        'def split_parity(numbers):\n    """Two lists: the even numbers and the odd ones."""\n',
        "    for n in numbers:\n        if n % 2 == 0:\n            evens.append(n)\n        else:\n"
        "            odds.append(n)\n    return evens, odds\n",
        "split_parity", ([1, 2, 3, 4, 5],), ([2, 4], [1, 3, 5]),
    ),
}


async def _first_answer_and_suggestion(qwen_server: str, tmp_path: Path, name: str, before: str,
                                       after: str) -> tuple[str, str]:
    """The model's first answer on the empty line between ``before`` and ``after`` (the engine's
    request sent as it is) and the suggestion the engine makes of it, after its second choice."""
    runtime = LocalRuntime(settings_for(qwen_server, tmp_path))
    try:
        engine = CompletionEngine(runtime, None, small(n_predict=48, prefix_tokens=256, suffix_tokens=96,
                                                       context_tokens=0))
        request = CompletionRequest(before + after, before.count("\n"), 0, f"{name}.py", "python", {})
        first = await ask(await runtime.client(), await engine.prepare(request))
        result = await engine.complete(request)
    finally:
        await runtime.aclose()
    assert result.timings.second_choices >= 1
    assert result.items, "no suggestion"
    return first.text, result.items[0]


def _run(name: str, program: str, function: str, args: tuple[Any, ...]) -> Any:
    namespace: dict[str, Any] = {}
    exec(compile(program, f"{name}.py", "exec"), namespace)
    return namespace[function](*args)


@pytest.mark.parametrize("name", sorted(CASES))
async def test_a_return_above_the_rest_of_the_body_gives_way_to_the_next_choice(
        qwen_server: str, tmp_path: Path, name: str) -> None:
    before, after, function, args, expected = CASES[name]
    first, suggestion = await _first_answer_and_suggestion(qwen_server, tmp_path, name, before, after)
    assert first.lstrip().startswith("return"), first
    assert suggestion.endswith("\n") and "return" not in suggestion, suggestion
    # accepted: the lines go above the cursor's line, and the function works
    assert _run(name, before + suggestion + after, function, args) == expected, suggestion


BODIES = {
    "alternate": (
        'def alternate(n):\n    """A list of n numbers: 1 at even positions, 2 at odd ones."""\n'
        "    ans = []\n    for i in range(n):\n        if i % 2 == 0:\n",
        "        else:\n            ans.append(2)\n    return ans\n",
        "alternate", (5,), [1, 2, 1, 2, 1],
    ),
}


@pytest.mark.parametrize("name", sorted(BODIES))
async def test_a_line_below_an_opener_is_written_again_as_its_body(
        qwen_server: str, tmp_path: Path, name: str) -> None:
    before, after, function, args, expected = BODIES[name]
    first, suggestion = await _first_answer_and_suggestion(qwen_server, tmp_path, name, before, after)
    # the model's first answer is not the if's body: it is at the if's own level or above
    line = next(ln for ln in first.split("\n") if ln.strip())
    assert len(line) - len(line.lstrip()) <= 8, first
    assert suggestion.startswith(" " * 12) and suggestion.endswith("\n"), suggestion
    assert _run(name, before + suggestion + after, function, args) == expected, suggestion
