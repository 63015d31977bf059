"""The prompt sized by a latency budget instead of fixed token counts.

On a CPU, prompt processing dominates a completion's latency: ~1,500 prompt tokens take 6-7 s on
two cores, a GPU does them in milliseconds. llama-server reports what each request cost
(``timings.prompt_n`` tokens in ``timings.prompt_ms``); the budget keeps a running estimate of
that speed and gives the window and the context as many tokens as fit the configured latency
(``completion.latency_ms``), never more than their configured sizes. Until the first measurement
it assumes a CPU-like speed, so the very first completion is not the slow one.

The size moves in steps (:data:`STEP` tokens) and only when the estimate left a band around the
current size (half a step or an eighth below it, as much above the next step): a window that
changed size would move its start and miss the server's prompt cache.

The budget is the user's wait for the first suggestion at a new position: the prompt takes what
the latency leaves after the round trip and the answer's first line, at the measured speeds and
the measured length of first lines (Java's are longer than Python's). A request made while the
user types comes after the editor's debounce (``waited_ms``), and mostly from the prompt cache;
generation may go on until the rest of the wait is spent (:meth:`PromptBudget.generation_ms`).
llama-server's ``t_max_predict_ms`` stops a generation only after its first newline, so the first
line is always finished; a slow machine gets fewer extra lines rather than a late suggestion.
"""

from __future__ import annotations

from dataclasses import dataclass

from codeassist.runtime.params import Timings

FIRST_GUESS_TOKENS_PER_S = 250.0  # 2 CPU cores, a 0.5B model: ~220-300 prompt tokens/s
STEP = 32
MIN_TOKENS = 192  # below this the window is too short to be of use: better slower than blind
ROUND_TRIP_MS = 60  # HTTP, the LSP and post-processing around the server's own time
MIN_GENERATION_MS = 1  # at least the first line (llama-server stops only after a newline)
FIRST_GUESS_LINE_TOKENS = 13.0  # a line of code with its indentation, until answers are measured
FIRST_GUESS_GEN_TOKENS_PER_S = 25.0  # 2 CPU cores, a 0.5B model: ~25-28 generated tokens/s
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
    def __init__(self, latency_ms: int, *, waited_ms: int = 0,
                 first_guess: float = FIRST_GUESS_TOKENS_PER_S) -> None:
        self.latency_ms = latency_ms
        # what is left once the editor's debounce has passed (the budget is the user's whole wait)
        self.request_ms = max(0, latency_ms - max(0, waited_ms)) if latency_ms > 0 else 0
        self.speed = first_guess  # prompt tokens per second
        self.measured = False
        self.gen_speed = 0.0  # generated tokens per second (0: not measured yet)
        self.line_tokens = FIRST_GUESS_LINE_TOKENS  # tokens in an answer's first line (running)
        self._tokens = self._fit()

    def observe(self, timings: Timings, line_tokens: int = 0) -> None:
        """Learn from one answer's timings (requests mostly from the prompt cache teach nothing)
        and the length of its first line in tokens (``line_tokens``; 0: not known)."""
        if line_tokens > 0:
            self.line_tokens = 0.8 * self.line_tokens + 0.2 * line_tokens
        if timings.predicted_n >= 8 and timings.predicted_ms > 0:
            gen = timings.predicted_n / (timings.predicted_ms / 1000)
            self.gen_speed = gen if not self.gen_speed else 0.7 * self.gen_speed + 0.3 * gen
        if timings.prompt_n < MIN_MEASURED or timings.prompt_ms <= 0:
            return
        speed = timings.prompt_n / (timings.prompt_ms / 1000)
        self.speed = speed if not self.measured else 0.7 * self.speed + 0.3 * speed
        self.measured = True
        raw = self._raw()
        margin = max(STEP / 2, self._tokens / 8)  # hysteresis: estimates wobble, the window stays
        if raw < self._tokens - margin or raw >= self._tokens + STEP + margin:
            self._tokens = self._fit()

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

    def generation_ms(self, prompt_tokens: int, floor_ms: int) -> int:
        """How long generation may go on (``t_max_predict_ms``): what the budget leaves after
        ``prompt_tokens`` new prompt tokens at the measured speed, the round trip and one line
        (llama-server checks the limit when a line ends, so the line in progress when it passes
        still comes), at least :data:`MIN_GENERATION_MS`; without a budget :meth:`predict_ms` of
        ``floor_ms``."""
        if self.latency_ms <= 0:
            return self.predict_ms(floor_ms)
        prompt_ms = 1000 * max(0, prompt_tokens) / self.speed
        return max(MIN_GENERATION_MS, int(self.request_ms - prompt_ms - ROUND_TRIP_MS - self._line_ms()))

    def predict_ms(self, floor_ms: int, tokens: int = 32) -> int:
        """How long generation may go on after the first newline: ``floor_ms``, or the time
        ``tokens`` tokens take at the measured speed when that is longer (a slow machine would
        otherwise stop a multi-line answer a few tokens after its first line break)."""
        if floor_ms <= 0 or self.gen_speed <= 0:
            return floor_ms
        return max(floor_ms, int(1000 * tokens / self.gen_speed))

    def _line_ms(self) -> float:
        """An answer's first line at the measured generation speed (its measured length)."""
        gen_speed = self.gen_speed if self.gen_speed > 0 else FIRST_GUESS_GEN_TOKENS_PER_S
        return 1000 * self.line_tokens / gen_speed

    def _raw(self) -> float:
        """Prompt tokens the wait holds: what it leaves after the round trip and the answer's first
        line (its measured length at the measured generation speed; the first line always comes:
        it is the suggestion), at the measured prompt speed."""
        prompt_ms = self.latency_ms - ROUND_TRIP_MS - self._line_ms()
        return self.speed * prompt_ms / 1000

    def _fit(self) -> int:
        return max(MIN_TOKENS, int(self._raw() // STEP) * STEP)

    def windows(self, configured: Windows) -> Windows:
        """The most each part may take: ``configured``, with the parts held to their shares of the
        budget (suffix a quarter, context a fifth, the prefix the rest). What a part leaves unused
        goes to the others (:meth:`prefix_for`, :meth:`context_for`, :meth:`context_left`)."""
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

    def context_left(self, configured: Windows, used: int) -> int:
        """What the context, ``used`` tokens of it sent, leaves of the share :meth:`prefix_for`
        kept for it: the prefix may take that too (0 without a budget)."""
        if self.tokens is None or configured.context <= 0:
            return 0
        return max(0, self.windows(configured).context - used)

    def prefix_alone(self, configured: Windows, context_used: int) -> int:
        """Prefix tokens for a prompt that shows no suffix: the budget after the context sent
        (``context_used`` tokens); without a budget the configured size."""
        tokens = self.tokens
        if tokens is None:
            return configured.prefix
        return max(32, min(configured.prefix, tokens - context_used))

    def context_for(self, configured: Windows, window_used: int) -> int:
        """Context tokens once the cursor window is cut (``window_used`` tokens)."""
        tokens = self.tokens
        if tokens is None:
            return configured.context
        return max(0, min(configured.context, tokens - window_used))
