"""The engine against the session's real llama-server with the tiny Gemma 3 (no FIM tokens).

The tiny model's suggestions are nonsense: these tests check the flow (501 fallback, prompt
cache, type-through cache, cancellation, post-processing), not the quality.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from codeassist.completion import CompletionEngine, CompletionRequest, CompletionResult
from codeassist.errors import InfillUnsupportedError, UsageError
from codeassist.runtime import COMPLETION_SLOT, LocalRuntime
from tests.completion.conftest import small

SOURCE = '''import math


def area_of_circle(radius):
    """Return the area of a circle."""
    return math.pi * radius ** 2


def circumference(radius):
    """Return the circumference of a circle."""
    return 2 * math.pi * radius


def describe(radius):
    area = area_of_circle(radius)
    length = circumference(radius)
    text = "radius %s: area %s, circumference %s" % (radius, area, length)
    return text
'''
LINES = SOURCE.split("\n")
NOTES = "def helper_for_circles(radius):\n    return area_of_circle(radius) + circumference(radius)\n"


def at(line: int, col: int, text: str = SOURCE, **open_docs: str) -> CompletionRequest:
    return CompletionRequest(text, line, col, "shapes.py", "python", open_docs)


async def first_with_items(engine: CompletionEngine, requests: list[CompletionRequest]
                           ) -> tuple[CompletionRequest, CompletionResult]:
    for req in requests:
        result = await engine.complete(req)
        if result.items and len(result.items[0]) >= 2:
            return req, result
    pytest.fail("the model gave no suggestion at any of the positions")


async def test_infill_501_falls_back_to_prompt_built_completion(gemma_runtime: LocalRuntime) -> None:
    client = await gemma_runtime.client()
    with pytest.raises(InfillUnsupportedError):
        await client.infill("def f(", "):\n", [])
    engine = CompletionEngine(gemma_runtime, None, small(), read_model_file=False)
    assert engine.mode is None
    result = await engine.complete(at(15, 11))  # "    length = |circumference(radius)"
    assert engine.mode == "completion"
    assert result.timings.mode == "completion"
    assert result.timings.prompt_tokens > 0
    assert not result.cached
    # mid-line: at most the rest of one line, no trailing whitespace
    assert all("\n" not in item and item == item.rstrip() for item in result.items)


async def test_model_file_tells_the_mode_without_trying_infill(gemma_runtime: LocalRuntime) -> None:
    engine = CompletionEngine(gemma_runtime, None, small())
    prepared = await engine.prepare(at(18, 4))
    assert engine.mode == "completion"
    assert prepared.mode == "completion"
    assert prepared.prompt.endswith(LINES[17] + "\n    ")
    assert prepared.params.id_slot == COMPLETION_SLOT


async def test_server_prompt_cache_is_reused_while_typing(gemma_runtime: LocalRuntime) -> None:
    engine = CompletionEngine(gemma_runtime, None, small(), read_model_file=False)
    docs = {"notes.py": NOTES}
    first = await engine.complete(at(18, 4, **docs))
    typed = SOURCE.replace("    return text\n", "    zreturn text\n")  # a key that matches no suggestion
    second = await engine.complete(at(18, 5, typed, **docs))
    print(f"\nprompt cache: first prompt {first.timings.prompt_tokens} tokens "
          f"({first.timings.cached_tokens} cached), second {second.timings.prompt_tokens} tokens "
          f"({second.timings.cached_tokens} cached)")
    assert not second.cached
    assert second.timings.cached_tokens >= second.timings.prompt_tokens - 8
    assert second.timings.cached_tokens > 0


async def test_typing_through_a_suggestion_is_served_from_the_cache(gemma_runtime: LocalRuntime) -> None:
    engine = CompletionEngine(gemma_runtime, None, small())
    candidates = [at(15, 13), at(16, 11), at(4, 11), at(18, 11)]
    req, result = await first_with_items(engine, candidates)
    suggestion = result.items[0]
    line = LINES[req.line]
    typed_line = line[:req.col] + suggestion[0] + line[req.col:]
    typed = "\n".join([*LINES[:req.line], typed_line, *LINES[req.line + 1:]])
    started = time.perf_counter()
    hit = await engine.complete(at(req.line, req.col + 1, typed))
    assert hit.cached
    assert hit.items == [suggestion[1:]]
    assert hit.timings.mode == "cache"
    assert (time.perf_counter() - started) < 1.0


async def test_cancelling_the_task_frees_the_server_slot(gemma_runtime: LocalRuntime) -> None:
    numbers = "values = [\n" + "".join(f"    {i},\n" for i in range(1, 120))
    engine = CompletionEngine(gemma_runtime, None, small(n_predict=400, prefix_tokens=900,
                                                         context_tokens=0))
    client = await gemma_runtime.client()
    text = numbers + "\n"
    task = asyncio.ensure_future(engine.complete(CompletionRequest(text, 120, 0, "n.py", "python")))
    busy = False
    for _ in range(100):
        await asyncio.sleep(0.02)
        slots = await client.slots()
        if any(s.get("id") == COMPLETION_SLOT and s.get("is_processing") for s in slots):
            busy = True
            break
    assert busy, "the completion never reached the server"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    cancelled_at = time.perf_counter()
    while time.perf_counter() - cancelled_at < 5:
        slots = await client.slots()
        if not any(s.get("id") == COMPLETION_SLOT and s.get("is_processing") for s in slots):
            break
        await asyncio.sleep(0.02)
    freed_after = time.perf_counter() - cancelled_at
    print(f"\nslot {COMPLETION_SLOT} idle {freed_after * 1000:.0f} ms after the cancel")
    assert freed_after < 0.5
    after = await engine.complete(at(15, 11))  # the engine is still usable
    assert after.timings.mode == "completion"


async def test_snippet_from_the_base_model(gemma_runtime: LocalRuntime) -> None:
    engine = CompletionEngine(gemma_runtime, None, small())
    code = await engine.generate_snippet("return the square of x", "def cube(x):\n    return x ** 3\n",
                                         language="python")
    assert isinstance(code, str)
    assert all(line == line.rstrip() for line in code.split("\n"))
    assert "```" not in code
    with pytest.raises(UsageError, match="instruction is empty"):
        await engine.generate_snippet("  ", "")


async def test_bad_position_is_a_usage_error(gemma_runtime: LocalRuntime) -> None:
    engine = CompletionEngine(gemma_runtime, None, small())
    with pytest.raises(UsageError, match=r"Line 500 is outside shapes\.py"):
        await engine.complete(at(499, 0))
