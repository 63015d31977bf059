"""The prompt sized by a latency budget instead of fixed token counts.

On a CPU, prompt processing dominates a completion's latency: ~1,500 prompt tokens take 6-7 s on
two cores, a GPU does them in milliseconds. llama-server reports what each request cost
(``timings.prompt_n`` tokens in ``timings.prompt_ms``); the budget keeps a running estimate of
that speed and gives the window and the context as many tokens as fit the configured latency
(``completion.latency_ms``), never more than their configured sizes. Until the first measurement
it assumes a CPU-like speed, so the very first completion is not the slow one.

The size moves in steps (:data:`STEP` tokens) and only when the estimate changed by a quarter:
a window that changed size would move its start and miss the server's prompt cache.
"""

from __future__ import annotations

from dataclasses import dataclass

from codeassist.runtime.params import Timings

FIRST_GUESS_TOKENS_PER_S = 300.0  # 2 CPU cores, a 0.5B model: ~250-400 prompt tokens/s
STEP = 64
SHARE_OF_BUDGET = 0.7  # the rest is for generating the first line and the round trip
MIN_TOKENS = 384  # below this the window is too short to be of use: better slower than blind
MIN_MEASURED = 32  # prompts shorter than this say little about the speed


@dataclass(frozen=True)
class Windows:
    prefix: int
    suffix: int
    context: int

    @property
    def total(self) -> int:
        return self.prefix + self.suffix + self.context


class PromptBudget:
    def __init__(self, latency_ms: int, *, first_guess: float = FIRST_GUESS_TOKENS_PER_S) -> None:
        self.latency_ms = latency_ms
        self.speed = first_guess  # prompt tokens per second
        self.measured = False
        self.gen_speed = 0.0  # generated tokens per second (0: not measured yet)
        self._tokens = self._fit()

    def observe(self, timings: Timings) -> None:
        """Learn from one answer's timings (requests mostly from the prompt cache teach nothing)."""
        if timings.predicted_n >= 8 and timings.predicted_ms > 0:
            gen = timings.predicted_n / (timings.predicted_ms / 1000)
            self.gen_speed = gen if not self.gen_speed else 0.7 * self.gen_speed + 0.3 * gen
        if timings.prompt_n < MIN_MEASURED or timings.prompt_ms <= 0:
            return
        speed = timings.prompt_n / (timings.prompt_ms / 1000)
        self.speed = speed if not self.measured else 0.7 * self.speed + 0.3 * speed
        self.measured = True
        fitted = self._fit()
        if abs(fitted - self._tokens) > 0.25 * self._tokens:
            self._tokens = fitted

    @property
    def tokens(self) -> int | None:
        """Prompt tokens that fit the budget (None: no budget, the configured sizes apply)."""
        return self._tokens if self.latency_ms > 0 else None

    def has_headroom(self, server_ms: float) -> bool:
        """Whether a request that took ``server_ms`` leaves room for a speculative one: at most half
        the budget (always, without a budget). On a slow machine a speculative request holds the
        only compute while the user types on: llama-server notices a cancelled request only once
        its prompt is processed, so the next real request would wait for it."""
        return self.latency_ms <= 0 or server_ms <= self.latency_ms / 2

    def predict_ms(self, floor_ms: int, tokens: int = 32) -> int:
        """How long generation may go on after the first newline: ``floor_ms``, or the time
        ``tokens`` tokens take at the measured speed when that is longer (a slow machine would
        otherwise stop a multi-line answer a few tokens after its first line break)."""
        if floor_ms <= 0 or self.gen_speed <= 0:
            return floor_ms
        return max(floor_ms, int(1000 * tokens / self.gen_speed))

    def _fit(self) -> int:
        raw = self.speed * self.latency_ms / 1000 * SHARE_OF_BUDGET
        return max(MIN_TOKENS, int(raw // STEP) * STEP)

    def windows(self, configured: Windows) -> Windows:
        """The most each part may take: ``configured``, with the parts held to their shares of the
        budget (suffix a quarter, context a fifth, the prefix the rest). What a part leaves unused
        goes to the others (:meth:`prefix_for`, :meth:`context_for`)."""
        tokens = self.tokens
        if tokens is None or configured.total <= tokens:
            return configured
        suffix = min(configured.suffix, tokens // 4)
        context = min(configured.context, tokens // 5)
        return Windows(prefix=max(32, min(configured.prefix, tokens - suffix - context)), suffix=suffix,
                       context=context)

    def prefix_for(self, configured: Windows, suffix_used: int, has_context: bool) -> int:
        """Prefix tokens once the suffix is cut (``suffix_used`` tokens): the budget left after it
        and the context's share (none when there is no context to send)."""
        tokens = self.tokens
        if tokens is None:
            return configured.prefix
        reserve = self.windows(configured).context if has_context else 0
        return max(32, min(configured.prefix, tokens - suffix_used - reserve))

    def context_for(self, configured: Windows, window_used: int) -> int:
        """Context tokens once the cursor window is cut (``window_used`` tokens)."""
        tokens = self.tokens
        if tokens is None:
            return configured.context
        return max(0, min(configured.context, tokens - window_used))
