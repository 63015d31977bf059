"""The prompt sized by a latency budget at the server's measured prompt-processing speed."""

from __future__ import annotations

from codeassist.completion.budget import MIN_GENERATION_MS, MIN_TOKENS, ROUND_TRIP_MS, PromptBudget, Windows
from codeassist.runtime.params import Timings

CONFIGURED = Windows(prefix=768, suffix=256, context=512)


def test_before_any_measurement_a_cpu_like_speed_is_assumed() -> None:
    budget = PromptBudget(1500)
    fitted = budget.windows(CONFIGURED)
    assert fitted.total <= budget.tokens <= 1500 * 0.3  # ~300 tokens/s on 2 cores
    # the lines above the cursor keep the largest share
    assert fitted.prefix > fitted.suffix > 0 and fitted.prefix > fitted.context > 0


def test_what_one_part_leaves_unused_goes_to_the_others() -> None:
    budget = PromptBudget(1500)
    tokens = budget.tokens
    assert tokens is not None
    shares = budget.windows(CONFIGURED)
    # a short suffix (the end of the file) and no context to send: the prefix may take the rest
    assert budget.prefix_for(CONFIGURED, 10, has_context=False) == tokens - 10
    assert budget.prefix_for(CONFIGURED, 10, has_context=True) == tokens - 10 - shares.context
    # a short file: the context may take what the window left
    assert budget.context_for(CONFIGURED, 50) == tokens - 50
    assert budget.context_for(CONFIGURED, tokens + 5) == 0
    # context that took less than its share leaves the rest to the prefix; without a budget nothing
    assert budget.context_left(CONFIGURED, 0) == shares.context
    assert budget.context_left(CONFIGURED, shares.context - 7) == 7
    assert budget.context_left(CONFIGURED, shares.context + 7) == 0
    assert PromptBudget(0).context_left(CONFIGURED, 0) == 0


def test_a_fast_server_gets_the_configured_windows() -> None:
    budget = PromptBudget(1500)
    budget.observe(Timings(prompt_n=2000, prompt_ms=200.0))  # 10k tokens/s: a GPU
    assert budget.windows(CONFIGURED) == CONFIGURED
    assert budget.prefix_for(CONFIGURED, 3, has_context=True) == CONFIGURED.prefix


def test_a_slow_server_gets_smaller_windows_and_small_changes_keep_them() -> None:
    budget = PromptBudget(1500)
    budget.observe(Timings(prompt_n=400, prompt_ms=4000.0))  # 100 tokens/s: a busy CPU
    slow = budget.windows(CONFIGURED)
    assert budget.tokens == MIN_TOKENS and slow.total <= MIN_TOKENS
    # a request served mostly from the prompt cache says nothing about the speed
    budget.observe(Timings(prompt_n=3, cache_n=900, prompt_ms=40.0))
    assert budget.windows(CONFIGURED) == slow
    # a little faster: same windows (a window that changes size misses the server's prompt cache)
    budget.observe(Timings(prompt_n=400, prompt_ms=3600.0))
    assert budget.windows(CONFIGURED) == slow


def test_no_budget_keeps_the_configured_sizes() -> None:
    budget = PromptBudget(0)
    budget.observe(Timings(prompt_n=400, prompt_ms=40000.0))
    assert budget.tokens is None
    assert budget.windows(CONFIGURED) == CONFIGURED


def test_generation_after_the_first_line_break_gets_time_for_some_tokens() -> None:
    budget = PromptBudget(1500)
    assert budget.predict_ms(1000) == 1000  # nothing measured yet
    budget.observe(Timings(prompt_n=10, predicted_n=64, predicted_ms=16000.0))  # 4 tokens/s
    assert budget.predict_ms(1000) == 8000  # 32 tokens at that speed
    assert budget.predict_ms(0) == 0  # no cap stays no cap
    fast = PromptBudget(1500)
    fast.observe(Timings(prompt_n=10, predicted_n=64, predicted_ms=640.0))  # 100 tokens/s
    assert fast.predict_ms(1000) == 1000


def test_a_speculative_request_only_when_a_request_takes_at_most_half_the_budget() -> None:
    budget = PromptBudget(1500)
    assert budget.has_headroom(300.0)  # a GPU: room for the next suggestion ahead
    assert budget.has_headroom(750.0)
    assert not budget.has_headroom(2300.0)  # 2 CPU cores: it would hold up the next keystroke
    assert PromptBudget(0).has_headroom(10_000.0)  # no budget: always


def test_generation_gets_what_the_prompt_leaves_of_the_wait() -> None:
    budget = PromptBudget(1500, waited_ms=150)  # the editor's debounce is part of a keystroke's wait
    # 250 prompt tokens/s, 50 generated tokens/s
    budget.observe(Timings(prompt_n=500, prompt_ms=2000.0, predicted_n=50, predicted_ms=1000.0))
    assert budget.request_ms == 1350
    line_ms = 1000 * budget.line_tokens / 50
    # 200 new prompt tokens take 800 ms: generation may run on for what is left, but for the
    # line in progress when the limit passes
    left = budget.generation_ms(200, floor_ms=1000)
    assert left == int(1350 - 800 - ROUND_TRIP_MS - line_ms)
    # a prompt mostly cached leaves more; one too long for the budget still gets its first line
    assert budget.generation_ms(20, floor_ms=1000) > left
    assert budget.generation_ms(2000, floor_ms=1000) == MIN_GENERATION_MS


def test_the_prompt_gets_what_the_first_line_leaves_of_the_wait() -> None:
    budget = PromptBudget(1500, waited_ms=150)
    # 250 prompt tokens/s, 25 generated tokens/s, first lines of 10 tokens (400 ms)
    for _ in range(30):
        budget.observe(Timings(prompt_n=500, prompt_ms=2000.0, predicted_n=50, predicted_ms=2000.0),
                       line_tokens=10)
    assert round(budget.line_tokens) == 10
    tokens = budget.tokens
    assert tokens is not None
    # the first suggestion at a new position (no debounce before it) arrives within the wait
    assert tokens / 250 * 1000 + ROUND_TRIP_MS + 400 <= 1500
    assert tokens >= 0.8 * (1500 - ROUND_TRIP_MS - 400) * 0.25  # and the prompt takes most of what it leaves
    # longer first lines (Java's) leave less of it to the prompt
    java = PromptBudget(1500)
    for _ in range(30):
        java.observe(Timings(prompt_n=500, prompt_ms=2000.0, predicted_n=50, predicted_ms=2000.0),
                     line_tokens=20)
    assert java.tokens is not None and java.tokens < tokens


def test_small_changes_of_the_estimates_keep_the_size() -> None:
    budget = PromptBudget(1500)
    budget.observe(Timings(prompt_n=500, prompt_ms=2000.0, predicted_n=50, predicted_ms=2000.0))
    size = budget.tokens
    # a little slower, a little faster: the window keeps its size (and the server its cache)
    budget.observe(Timings(prompt_n=500, prompt_ms=2100.0, predicted_n=50, predicted_ms=2000.0))
    assert budget.tokens == size
    budget.observe(Timings(prompt_n=500, prompt_ms=1900.0, predicted_n=50, predicted_ms=2000.0))
    assert budget.tokens == size
    # twice as fast: more
    for _ in range(5):
        budget.observe(Timings(prompt_n=500, prompt_ms=1000.0, predicted_n=50, predicted_ms=2000.0))
    assert budget.tokens is not None and size is not None and budget.tokens > size


def test_without_a_budget_generation_keeps_its_floor() -> None:
    budget = PromptBudget(0, waited_ms=150)
    assert budget.generation_ms(5000, floor_ms=1000) == 1000
