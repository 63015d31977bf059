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
from codeassist.runtime import CHAT_SLOT, COMPLETION_SLOT, LocalRuntime
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
    prepared = await engine.prepare(at(17, 4))
    assert engine.mode == "completion"
    assert prepared.mode == "completion"
    assert prepared.prompt.endswith(LINES[16] + "\n    ")
    assert prepared.params.id_slot == COMPLETION_SLOT


async def test_a_cancelled_request_does_not_abandon_the_model_probe(gemma_runtime: LocalRuntime) -> None:
    engine = CompletionEngine(gemma_runtime, None, small())
    first = asyncio.ensure_future(engine.complete(at(17, 4)))
    for _ in range(5000):  # until the probe has started (after connecting: /props, then the model file)
        if engine._caps.probing is not None:
            break
        await asyncio.sleep(0.001)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    probing = engine._caps.probing
    assert probing is not None and not probing.cancelled()
    await asyncio.wait_for(asyncio.shield(probing), timeout=60)  # it finishes on its own
    assert engine.mode == "completion"  # learnt from the model file: no FIM tokens
    # concurrent callers share one probe, and it runs once
    second = CompletionEngine(gemma_runtime, None, small())
    await asyncio.gather(second.prepare(at(17, 4)), second.prepare(at(15, 11)))
    assert second._caps.probing is not None and second._caps.probed


async def test_server_prompt_cache_is_reused_while_typing(gemma_runtime: LocalRuntime) -> None:
    engine = CompletionEngine(gemma_runtime, None, small(), read_model_file=False)
    docs = {"notes.py": NOTES}
    first = await engine.complete(at(17, 4, **docs))
    typed = SOURCE.replace("    return text\n", "    zreturn text\n")  # a key that matches no suggestion
    second = await engine.complete(at(17, 5, typed, **docs))
    print(f"\nprompt cache: first prompt {first.timings.prompt_tokens} tokens "
          f"({first.timings.cached_tokens} cached), second {second.timings.prompt_tokens} tokens "
          f"({second.timings.cached_tokens} cached)")
    assert not second.cached
    assert second.timings.cached_tokens >= second.timings.prompt_tokens - 8
    assert second.timings.cached_tokens > 0


async def test_typing_through_a_suggestion_is_served_from_the_cache(gemma_runtime: LocalRuntime) -> None:
    engine = CompletionEngine(gemma_runtime, None, small())
    candidates = [at(15, 13), at(16, 11), at(4, 11), at(17, 11)]
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
    # The synchronous lookup the language server makes before debouncing sees the same entries.
    sync_hit = engine.cached(at(req.line, req.col + 1, typed))
    assert sync_hit is not None and sync_hit.items == [suggestion[1:]]
    assert engine.cached(at(req.line, req.col, typed)) is None  # a position never asked about


def _slot(slots: list[dict[str, object]]) -> dict[str, object]:
    return next(s for s in slots if s.get("id") == COMPLETION_SLOT)


def _decoded(slot: dict[str, object]) -> tuple[int, int]:
    nxt = slot.get("next_token")
    first = nxt[0] if isinstance(nxt, list) and nxt else {}
    assert isinstance(first, dict)
    return int(first.get("n_decoded", 0)), int(first.get("n_remain", 0))


async def test_cancelling_the_task_frees_the_server_slot(gemma_runtime: LocalRuntime) -> None:
    numbers = "values = [\n" + "".join(f"    {i},\n" for i in range(1, 40))
    engine = CompletionEngine(gemma_runtime, None, small(n_predict=400, context_tokens=0),
                              max_predict_ms=0)
    client = await gemma_runtime.client()
    task = asyncio.ensure_future(engine.complete(CompletionRequest(numbers, 40, 0, "n.py", "python")))
    decoded = remain = 0
    generating_since = None
    while not task.done():  # wait until the server is generating tokens for this request
        await asyncio.sleep(0.05)
        slot = _slot(await client.slots())
        if slot.get("is_processing"):
            decoded, remain = _decoded(slot)
            generating_since = generating_since or (time.perf_counter() if decoded else None)
            if decoded >= 3:
                break
    assert not task.done(), "the request finished before it could be cancelled"
    per_token = (time.perf_counter() - generating_since) / max(1, decoded - 1) if generating_since else 0.0
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    cancelled_at = time.perf_counter()
    while _slot(await client.slots()).get("is_processing") and time.perf_counter() - cancelled_at < 60:
        await asyncio.sleep(0.05)
    freed_after = time.perf_counter() - cancelled_at
    natural = remain * per_token
    print(f"\nslot {COMPLETION_SLOT} idle {freed_after * 1000:.0f} ms after the cancel; "
          f"{remain} tokens were left (~{natural:.1f} s)")
    assert remain > 300
    assert not _slot(await client.slots()).get("is_processing")
    assert freed_after < max(1.5, natural / 3)  # stopped, not run to the end
    after = await engine.complete(at(15, 11))  # the engine is still usable
    assert after.timings.mode == "completion"


async def test_snippet_from_the_base_model(gemma_runtime: LocalRuntime) -> None:
    engine = CompletionEngine(gemma_runtime, None, small(n_predict=8))
    client = await gemma_runtime.client()
    before = {slot["id"]: slot.get("id_task") for slot in await client.slots()}  # none before first use
    code = await engine.generate_snippet("return the square of x", "def cube(x):\n    return x ** 3\n",
                                         language="python")
    assert code.strip()  # the base model continues the code
    after = {slot["id"]: slot.get("id_task") for slot in await client.slots()}
    # it ran on the chat slot: the completions' slot (and its prompt cache) was left alone
    assert after[COMPLETION_SLOT] == before[COMPLETION_SLOT] and after[CHAT_SLOT] != before[CHAT_SLOT]
    assert all(line == line.rstrip() for line in code.split("\n"))
    assert "```" not in code
    with pytest.raises(UsageError, match="instruction is empty"):
        await engine.generate_snippet("  ", "")


async def test_bad_position_is_a_usage_error(gemma_runtime: LocalRuntime) -> None:
    engine = CompletionEngine(gemma_runtime, None, small())
    with pytest.raises(UsageError, match=r"Line 500 is outside shapes\.py"):
        await engine.complete(at(499, 0))
