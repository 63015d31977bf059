"""The FIM-less path's prompt layouts with an instruct model (Qwen2.5-Coder 0.5B Instruct forced
onto ``/completion``), the latency budget and the speculative request, against the real server."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeassist.completion import CompletionEngine, CompletionRequest
from codeassist.completion.budget import MIN_TOKENS
from codeassist.runtime import LocalRuntime
from tests.completion.conftest import settings_for, small

# the code below the cursor says what the function must return
MAIN = "\n".join([
    "def area(width, height):",
    "    return ",
    "",
    "",
    "assert area(2, 3) == 6",
    "",
])


@pytest.mark.parametrize("layout", ["headers", "headers_suffix", "chat_hole", "hybrid"])
async def test_each_layout_completes_the_line(qwen_server: str, tmp_path: Path, layout: str) -> None:
    runtime = LocalRuntime(settings_for(qwen_server, tmp_path))
    try:
        engine = CompletionEngine(runtime, None, small(n_predict=24, mode="completion", prompt=layout,
                                                       timeout=300.0))
        request = CompletionRequest(MAIN, 1, 11, "main.py", "python")
        prepared = await engine.prepare(request)
        assert engine.mode == "completion" and prepared.infill is None
        assert prepared.layout == layout
        if layout == "headers":
            assert prepared.prompt.endswith("# main.py\ndef area(width, height):\n    return ")
        elif layout == "headers_suffix":  # the code after the cursor first, as a block of its own
            assert prepared.prompt == ("# main.py (the code after the cursor)\nassert area(2, 3) == 6\n\n"
                                       "# main.py\ndef area(width, height):\n    return ")
        else:  # Qwen's own template (ChatML), the cursor marked in the user turn
            assert prepared.prompt.startswith("<|im_start|>system\n")
            assert "    return <CURSOR>\n" in prepared.prompt
            assert prepared.prompt.endswith("<|im_start|>assistant\n" + (
                "```python\ndef area(width, height):\n    return " if layout == "hybrid" else ""))
        result = await engine.complete(request)
        assert result.items, f"{layout}: no suggestion"
        line = "    return " + result.items[0]
        assert "width" in line and "height" in line and "*" in line, (layout, result.items)
        assert "```" not in result.items[0] and "<|im_end|>" not in result.items[0]
    finally:
        await runtime.aclose()


async def test_the_accepted_suggestion_was_prepared_ahead(qwen_server: str, tmp_path: Path) -> None:
    runtime = LocalRuntime(settings_for(qwen_server, tmp_path))
    text = "def area(width, height):\n    "
    try:
        engine = CompletionEngine(runtime, None, small(n_predict=16, speculative=True, timeout=300.0))
        first = await engine.complete(CompletionRequest(text, 1, 4, "main.py", "python"))
        assert first.items and not first.cached
        await engine.idle()  # the speculative request for the accepted text has finished
        # accept it: the position after the suggestion is answered from the cache at once
        accepted = text + first.items[0]
        lines = accepted.split("\n")
        nxt = await engine.complete(CompletionRequest(accepted, len(lines) - 1, len(lines[-1]), "main.py",
                                                      "python"))
        assert nxt.cached
    finally:
        await runtime.aclose()


async def test_the_budget_learns_the_server_speed(qwen_server: str, tmp_path: Path) -> None:
    runtime = LocalRuntime(settings_for(qwen_server, tmp_path))
    body = "".join(f"value_{i} = compute({i}, scale={i % 7})\n" for i in range(400))
    try:
        engine = CompletionEngine(runtime, None, small(prefix_tokens=4096, suffix_tokens=512,
                                                       context_tokens=0, latency_ms=1500, timeout=300.0))
        before = engine.windows()
        assert before.total < 4096 + 512  # a first guess below the configured sizes
        await engine.complete(CompletionRequest(body + "value_400 = ", 400, 12, "main.py", "python"))
        assert engine.budget.measured
        speed = engine.budget.speed
        assert speed > 0  # prompt tokens per second, as the server reported them
        after = engine.windows()
        assert after.total <= max(MIN_TOKENS, speed * 1.5)  # the next prompt fits 1.5 s at that speed
    finally:
        await runtime.aclose()


async def test_an_instruct_model_gets_the_code_after_the_cursor_by_default(qwen_server: str,
                                                                          tmp_path: Path) -> None:
    runtime = LocalRuntime(settings_for(qwen_server, tmp_path))
    try:  # Qwen's GGUF has a chat template: an instruct model, as Gemma 4 is
        engine = CompletionEngine(runtime, None, small(n_predict=24, mode="completion", prompt="auto"))
        prepared = await engine.prepare(CompletionRequest(MAIN, 1, 11, "main.py", "python"))
        assert prepared.layout == "headers_suffix"
        assert prepared.prompt.startswith("# main.py (the code after the cursor)\nassert area(2, 3) == 6\n")
    finally:
        await runtime.aclose()


async def test_a_prompt_without_the_suffix_spends_its_share_on_the_lines_above(qwen_server: str,
                                                                               tmp_path: Path) -> None:
    # a docstring longer than the CPU defaults' ~190 prompt tokens, code after the cursor
    doc = "".join(f"    {c}\n" for c in range(200))
    below = "".join(f"print(convert({c}))\n" for c in range(100))
    text = f'def convert(degrees):\n    """Values:\n{doc}    """\n    return \n\n\n{below}'
    request = CompletionRequest(text, text.split("\n").index("    return "), 11, "convert.py", "python")
    runtime = LocalRuntime(settings_for(qwen_server, tmp_path))
    try:
        budgeted = {"n_predict": 24, "latency_ms": 1500, "debounce_ms": 150, "prefix_tokens": 768,
                    "context_tokens": 512, "mode": "completion", "prompt": "headers"}
        engine = CompletionEngine(runtime, None, small(**budgeted, suffix_tokens=256))
        prepared = await engine.prepare(request)
        assert "print(convert(" not in prepared.prompt and "def convert" not in prepared.prompt
        assert engine.windows().suffix > 0  # a share was kept for the suffix...
        # ...and, as no suffix is shown, went to the lines above: as if none had been configured
        alone = await CompletionEngine(runtime, None, small(**budgeted, suffix_tokens=0)).prepare(request)
        assert prepared.prompt == alone.prompt
        assert prepared.window.prefix_tokens > engine.windows().prefix
    finally:
        await runtime.aclose()
