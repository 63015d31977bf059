"""The FIM-less path's prompt layouts with an instruct model (Qwen2.5-Coder 0.5B Instruct forced
onto ``/completion``), the latency budget and the speculative request, against the real server."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeassist.completion import CompletionEngine, CompletionRequest
from codeassist.completion.budget import MIN_TOKENS
from codeassist.completion.prompt import shows_suffix_to_end
from codeassist.completion.windows import CursorWindow
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


# the code after the hole is the body of the line the hole needs
POWER_ABOVE = 'def is_power_of(x, n):\n    """True when x is n raised to some whole power."""\n'
POWER_BELOW = ('\n        return x == 1\n    value = 1\n    while value < x:\n        value *= n\n'
               '    return value == x\n')


async def test_headers_suffix_ends_where_the_code_after_the_cursor_takes_over(qwen_server: str,
                                                                            tmp_path: Path) -> None:
    """The model saw the lines below: its answer ends where they can follow it (the rules of a
    FIM answer), not after its own copy of the body below (`if x == 1:` then `return True`,
    `value = 1`... again, which breaks the function)."""
    runtime = LocalRuntime(settings_for(qwen_server, tmp_path))
    try:
        engine = CompletionEngine(runtime, None, small(mode="completion", prompt="headers_suffix",
                                                       latency_ms=0, speculative=False, timeout=300.0))
        request = CompletionRequest(POWER_ABOVE + POWER_BELOW, 2, 0, "power.py", "python")
        prepared = await engine.prepare(request)
        assert prepared.sees_suffix and prepared.layout == "headers_suffix"
        result = await engine.complete(request)
        assert len(result.items) == 1 and "\n" not in result.items[0].strip(), result.items
        namespace: dict[str, object] = {}
        exec(POWER_ABOVE + result.items[0] + POWER_BELOW, namespace)  # the accepted file runs
        is_power_of = namespace["is_power_of"]
        assert callable(is_power_of)
        assert is_power_of(8, 2) and is_power_of(1, 5) and is_power_of(81, 3)
        assert not is_power_of(6, 2) and not is_power_of(10, 3)
    finally:
        await runtime.aclose()


def test_headers_suffix_uses_the_suffix_rules_only_where_it_shows_the_rest() -> None:
    def window(line_suffix: str) -> CursorWindow:
        return CursorWindow(before="def f(x):\n", line_prefix="    y = ", line_suffix=line_suffix,
                            after="\n    return y\n", line=1, start_line=0, end_line=3,
                            prefix_tokens=8, suffix_tokens=4, prefix_limit=8)

    assert shows_suffix_to_end("headers_suffix", window(""))
    assert shows_suffix_to_end("headers_suffix", window("   "))
    assert not shows_suffix_to_end("headers_suffix", window("x + 1"))  # that rest is not in the prompt
    assert not shows_suffix_to_end("headers", window(""))
    assert shows_suffix_to_end(None, window("x + 1")) and shows_suffix_to_end("chat_hole", window("x"))
