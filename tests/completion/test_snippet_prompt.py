"""Snippet prompts and answer clean-up (pure parts; the model round trip is in test_engine_gemma)."""

from __future__ import annotations

import pytest

from codeassist.completion.prompt import comment_prefix
from codeassist.completion.snippet import base_prompt, chat_messages, clean_base_answer, extract_code


@pytest.mark.parametrize(("answer", "expected"), [
    ("Here you go:\n```python\ndef f(x):  \n    return x * x\n```\nEnjoy.", "def f(x):\n    return x * x"),
    ("```\nprint(1)\n", "print(1)"),  # an unterminated fence (generation cut off)
    ("def g():\n    pass   \n\n", "def g():\n    pass"),  # no fence: all of it
])
def test_extract_code(answer: str, expected: str) -> None:
    assert extract_code(answer) == expected


def test_base_prompt_puts_the_instruction_as_a_comment_after_the_context() -> None:
    prompt = base_prompt("parse a CSV file\ninto dicts", "import csv\n", "python")
    assert prompt == "import csv\n\n# parse a CSV file\n# into dicts\n"
    assert base_prompt("sum a list", "", "go") == "// sum a list\n"


def test_chat_messages_carry_the_context_in_a_fence() -> None:
    messages = chat_messages("add logging", "def f():\n    pass\n", "")
    assert messages[0]["role"] == "system"
    assert messages[1]["content"].startswith("add logging\n\nContext:\n```python\ndef f():")


@pytest.mark.parametrize(("language", "mark"), [("python", "#"), ("rust", "//"), ("sql", "--"), ("", "//")])
def test_comment_prefix(language: str, mark: str) -> None:
    assert comment_prefix(language) == mark


def test_a_base_models_loop_is_cut_with_its_echo_of_the_instruction() -> None:
    answer = ("def read_json(path):\n    with open(path) as fh:\n        return json.load(fh)\n\n"
              "# read a json file and return the dict\ndef read_json(path):\n    with open(path) as fh:\n")
    assert clean_base_answer(answer, "read a JSON file and return the dict") == (
        "def read_json(path):\n    with open(path) as fh:\n        return json.load(fh)")
    assert clean_base_answer("x = 1\ny = 2\n", "set x") == "x = 1\ny = 2"
