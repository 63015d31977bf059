"""The ``/infill`` path for real: a second llama-server with Qwen2.5-Coder 0.5B (FIM tokens).

Kept to a few short requests with small windows: prompt processing on CPU is slow.
"""

from __future__ import annotations

from pathlib import Path

from codeassist.completion import CompletionEngine, CompletionRequest
from codeassist.runtime import LocalRuntime, gguf
from tests.completion import fim_model
from tests.completion.conftest import settings_for, small

GEOMETRY = '''def rectangle_area(width, height):
    """Area of a width x height rectangle."""
    return width * height
'''
MAIN = "\n".join([
    "from geometry import rectangle_area",
    "",
    "",
    "def add(a, b):",
    "    return ",
    "",
    "",
    "def floor_area(rooms):",
    "    return sum(rectangle_area(w, h) for w, h in rooms)",
    "",
    "",
    "print(add(1, 2))",
    "",
])


def test_the_assembled_model_is_the_expected_fim_model() -> None:
    info = gguf.read_info(fim_model.assemble())
    assert info.architecture == "qwen2"
    assert "Qwen2.5 Coder 0.5B" in info.name
    assert info.has_fim
    assert info.size_bytes == fim_model.SIZE


async def test_infill_with_context_and_prompt_cache(qwen_server: str, tmp_path: Path) -> None:
    runtime = LocalRuntime(settings_for(qwen_server, tmp_path))
    try:
        engine = CompletionEngine(runtime, None, small(n_predict=12, prefix_tokens=128, suffix_tokens=48,
                                                       context_tokens=96))
        request = CompletionRequest(MAIN, 4, 11, "main.py", "python", {"geometry.py": GEOMETRY})
        prepared = await engine.prepare(request)
        assert engine.mode == "infill"
        assert prepared.infill is not None
        assert prepared.infill.prompt == "    return "
        assert [e["filename"] for e in prepared.infill.extra] == ["geometry.py"]
        first = await engine.complete(request)
        assert first.timings.mode == "infill"
        assert first.items and "a" in first.items[0] and "b" in first.items[0], first.items
        assert "\n" not in first.items[0]  # the rest of `return` only: stops at the end of the block
        # type one more character (not what was suggested): the server reuses the cached prompt
        typed = MAIN.replace("    return \n", "    return (\n", 1)
        second = await engine.complete(CompletionRequest(typed, 4, 12, "main.py", "python",
                                                         {"geometry.py": GEOMETRY}))
        print(f"\n/infill prompt cache: first {first.timings.prompt_tokens} tokens "
              f"({first.timings.cached_tokens} cached), second {second.timings.prompt_tokens} "
              f"({second.timings.cached_tokens} cached)")
        assert not second.cached
        # llama-server lays out [extra][FIM_PRE]prefix+prompt[FIM_SUF]suffix[FIM_MID]: the context
        # and the lines above are reused, the suffix after the typed character is evaluated again
        context_tokens = gguf.Tokenizer(fim_model.assemble()).count(GEOMETRY)
        assert second.timings.cached_tokens >= context_tokens > 0
        # typing on the line keeps the context chosen for it, and the suggestion finishes the line
        assert second.context == first.context
        assert all("\n" not in item for item in second.items), second.items
    finally:
        await runtime.aclose()


async def test_generation_stops_when_the_answer_leaves_the_hole(qwen_server: str, tmp_path: Path) -> None:
    # this model does not end a fill-in-the-middle answer by itself: after the body it writes on
    # (the code below again, example calls, an explanation in Markdown); the stream is closed once
    # the answer meets the code below
    text = ("def average(values):\n    total = 0\n    for v in values:\n        \n"
            "    return total / len(values)\n")
    runtime = LocalRuntime(settings_for(qwen_server, tmp_path))
    try:
        engine = CompletionEngine(runtime, None, small(n_predict=96, context_tokens=0),
                                  max_predict_ms=120_000)  # no time limit: only the answer's end stops it
        result = await engine.complete(CompletionRequest(text, 3, 8, "main.py", "python"))
        assert result.items == ["total += v"]
        assert result.timings.predicted_tokens < 48, result.timings
    finally:
        await runtime.aclose()



def _long_function() -> str:
    """A function above a docstring longer than the latency budget leaves the window."""
    # short lines: the share the context leaves is many lines, more than the window's start moves by
    examples = "".join(f"    {c}\n" for c in range(-40, 120, 2))
    return ("def convert(degrees_celsius):\n"
            '    """Convert a temperature to degrees Fahrenheit.\n\n'
            f"{examples}"
            '    """\n'
            "    return \n")


async def test_context_that_is_not_there_leaves_its_share_to_the_lines_above(qwen_server: str,
                                                                              tmp_path: Path) -> None:
    text = _long_function()
    request = CompletionRequest(text, len(text.split("\n")) - 2, 11, "convert.py", "python")
    runtime = LocalRuntime(settings_for(qwen_server, tmp_path))
    try:
        # the defaults' budget on a CPU (~190 prompt tokens, fewer than the docstring's), once
        # with a context share and nothing in the repository to fill it, once without a share
        budgeted = {"n_predict": 24, "latency_ms": 1500, "debounce_ms": 150, "prefix_tokens": 768,
                    "suffix_tokens": 256}
        shared = CompletionEngine(runtime, None, small(**budgeted, context_tokens=512))
        unshared = CompletionEngine(runtime, None, small(**budgeted, context_tokens=0))
        prepared = await shared.prepare(request)
        assert prepared.infill is not None and not prepared.chunks
        assert "def convert" not in prepared.infill.prefix  # the budget cut the window
        assert shared.windows().context > 0  # a share was kept for context...
        alone = await unshared.prepare(request)
        assert alone.infill is not None
        assert prepared.infill.prefix == alone.infill.prefix  # ...and went to the lines above
        assert prepared.window.prefix_tokens > shared.windows().prefix
        result = await shared.complete(request)
        budget = shared.budget.tokens
        assert budget is not None and result.timings.prompt_tokens <= budget + 16, result.timings
    finally:
        await runtime.aclose()


async def test_a_window_that_holds_the_file_start_leaves_the_rest_to_the_code_below(qwen_server: str,
                                                                                    tmp_path: Path) -> None:
    body = "".join(f"    total_{i} = total_{i - 1} + values[{i}]\n" for i in range(1, 60))
    text = "def accumulate(values):\n    total_0 = \n" + body + "    return total_59\n"
    request = CompletionRequest(text, 1, len("    total_0 = "), "accumulate.py", "python")
    runtime = LocalRuntime(settings_for(qwen_server, tmp_path))
    try:
        engine = CompletionEngine(runtime, None, small(n_predict=24, latency_ms=1500, debounce_ms=150,
                                                       prefix_tokens=768, suffix_tokens=256,
                                                       context_tokens=0))
        prepared = await engine.prepare(request)
        assert prepared.infill is not None
        budget = engine.budget.tokens
        assert budget is not None and len(text) > 4 * budget  # the file does not fit the budget
        # two lines above the cursor: the suffix takes what the prefix left of the budget
        window = prepared.window
        assert window.start_line == 0 and prepared.infill.prefix == "def accumulate(values):\n"
        assert window.suffix_tokens > 2 * engine.windows().suffix
        assert window.prefix_tokens + window.suffix_tokens <= budget
        assert "    total_12 = total_11 + values[12]" in prepared.infill.suffix  # a quarter: 3 lines
        result = await engine.complete(request)
        assert result.timings.prompt_tokens <= budget + 16, result.timings
    finally:
        await runtime.aclose()
