"""Chat-template completion prompts (FIM-less instruct models), rendered with the real Gemma 4
template (the vocabulary GGUF in llama-cpp-python's source distribution, unpacked by the set-up)."""

from __future__ import annotations

import pytest

from codeassist import paths
from codeassist.completion import chat_prompt
from codeassist.completion.tokens import EstimatingCounter, LineCounter
from codeassist.completion.types import ContextChunk
from codeassist.completion.windows import CursorWindow, cursor_window, split_lines
from codeassist.runtime import gguf
from codeassist.runtime.provision import LLAMA_CPP_PYTHON_VERSION

GEMMA4_VOCAB = (paths.cache_dir() / "src" / f"llama_cpp_python-{LLAMA_CPP_PYTHON_VERSION}" / "vendor"
                / "llama.cpp" / "models" / "ggml-vocab-gemma-4.gguf")
FILE = "def add(a, b):\n    return \n\n\nprint(add(2, 3))\n"


@pytest.fixture(scope="module")
def gemma4_template() -> str:
    if not GEMMA4_VOCAB.is_file():
        pytest.fail(f"{GEMMA4_VOCAB} is missing: ./scripts/setup.sh unpacks the llama-cpp-python sources.")
    info = gguf.read_info(GEMMA4_VOCAB)
    assert info.architecture == "gemma4"
    assert info.chat_template is not None
    return info.chat_template


def window_at(text: str, line: int, col: int) -> CursorWindow:
    return cursor_window(split_lines(text), line, col, LineCounter(EstimatingCounter()),
                         prefix_tokens=256, suffix_tokens=64)


def test_chat_hole_is_one_user_turn_and_an_empty_model_turn_with_thinking_off(gemma4_template: str) -> None:
    window = window_at(FILE, 1, 11)
    chunk = ContextChunk("util.py", 0, 1, "def sub(a, b):\n    return a - b\n", "definition")
    prompt = chat_prompt.chat_prompt(gemma4_template, window, [chunk], "main.py", "python", "chat_hole")
    assert prompt.startswith("<|turn>user\n")  # no BOS: llama-server adds it
    user, model = prompt.split("<turn|>\n", 1)
    assert "def sub(a, b):" in user  # the context comes along
    assert "def add(a, b):\n    return " + chat_prompt.CURSOR + "\n\n\nprint(add(2, 3))" in user
    assert model == "<|turn>model\n<|channel>thought\n<channel|>"  # thinking off: an empty thought
    assert "<|think|>" not in prompt


def test_hybrid_prefills_the_model_turn_with_the_code_up_to_the_cursor(gemma4_template: str) -> None:
    window = window_at(FILE, 1, 11)
    prompt = chat_prompt.chat_prompt(gemma4_template, window, [], "main.py", "python", "hybrid")
    empty_thought = "<|turn>model\n<|channel>thought\n<channel|>"
    assert prompt.endswith(empty_thought + "```python\ndef add(a, b):\n    return ")
    user, model = prompt.split("<|turn>model\n", 1)
    assert chat_prompt.CURSOR in user and chat_prompt.CURSOR not in model  # the model continues there


def test_thinking_on_renders_the_think_token(gemma4_template: str) -> None:
    prompt = chat_prompt.render(gemma4_template, [{"role": "user", "content": "hi"}], think=True)
    assert prompt == "<|turn>system\n<|think|><turn|>\n<|turn>user\nhi<turn|>\n<|turn>model\n"


@pytest.mark.parametrize(("raw", "line", "col", "layout", "expected"), [
    # a fenced answer: the code only
    ("```python\na + b\n```", 1, 11, "chat_hole", "a + b\n"),
    ("a + b", 1, 11, "chat_hole", "a + b"),
    # the model retyped what is already on the cursor line
    ("return a + b", 1, 11, "chat_hole", "a + b"),
    ("    return a + b", 1, 11, "chat_hole", "a + b"),
    # the cursor is already indented: the answer's indent is not doubled
    ("    return a + b", 1, 4, "chat_hole", "return a + b"),
    # the model rewrote the whole function: what follows the cursor only
    ("```python\ndef add(a, b):\n    return a + b\n```", 1, 11, "chat_hole", "a + b\n"),
    ("def add(a, b):\n    return a + b", 1, 4, "chat_hole", "return a + b"),
    # hybrid: the continuation ends at the closing fence
    ("a + b\n```\nThat adds.", 1, 11, "hybrid", "a + b\n"),
    # the hole's marker copied: it is no code, and what follows it is the code after the hole
    ("<CURSOR>", 1, 11, "hybrid", ""),
    ("a + b<CURSOR>\n", 1, 11, "hybrid", "a + b"),
    ("```python\ndef add(a, b):\n    return a + b<CURSOR>\n```", 1, 11, "chat_hole", "a + b"),
])
def test_answer_code(raw: str, line: int, col: int, layout: str, expected: str) -> None:
    text = FILE if col == 11 else FILE.replace("    return \n", "    \n")
    assert chat_prompt.answer_code(raw, window_at(text, line, col), layout) == expected


def test_a_template_that_cannot_render_is_a_model_error() -> None:
    from codeassist.errors import ModelError

    with pytest.raises(ModelError, match="chat template"):
        chat_prompt.render("{{ raise_exception('no user turns here') }}", [{"role": "user", "content": "x"}])

