"""Request options and results of llama-server calls: small frozen value objects.

They carry no HTTP: :mod:`codeassist.runtime.llama_client` turns them into request bodies and
builds them from answers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ChatParams", "Completion", "CompletionParams", "Sampling", "Timings", "TokenChoice"]


@dataclass(frozen=True)
class Sampling:
    """Sampler settings sent with every generation request."""

    temperature: float = 0.2
    top_k: int = 40
    top_p: float = 0.95
    min_p: float = 0.05
    repeat_penalty: float = 1.0
    seed: int = -1  # -1: random

    def to_json(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "top_k": self.top_k, "top_p": self.top_p,
                "min_p": self.min_p, "repeat_penalty": self.repeat_penalty, "seed": self.seed}


@dataclass(frozen=True)
class CompletionParams:
    """Options of one ``/completion`` or ``/infill`` request.

    ``id_slot`` pins the request to a server slot (-1: any idle slot); completions and chat use
    different slots so that neither evicts the other's prompt cache. ``t_max_predict_ms`` caps
    generation time once a newline was produced (0: off). ``ignore_eos`` keeps generating past
    the end-of-text token (benchmarks). ``timeout`` is the read timeout in seconds (None: the
    client's default). ``n_probs`` asks for that many of the model's most likely tokens at each
    generated token (:attr:`Completion.choices`; 0: none). ``until`` is asked with the text so far
    after every streamed piece that holds a newline; when it says the answer is complete the
    stream is closed and the server stops generating (the answer's ``stop_type`` is then ``done``).
    """

    n_predict: int = 128
    sampling: Sampling = field(default_factory=Sampling)
    stop: tuple[str, ...] = ()
    cache_prompt: bool = True
    id_slot: int = -1
    t_max_predict_ms: int = 0
    ignore_eos: bool = False
    timeout: float | None = None
    n_probs: int = 0
    until: Callable[[str], bool] | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"n_predict": self.n_predict, "stop": list(self.stop),
                                "cache_prompt": self.cache_prompt, "id_slot": self.id_slot,
                                **self.sampling.to_json()}
        if self.n_probs > 0:
            body["n_probs"] = self.n_probs
        if self.t_max_predict_ms > 0:
            body["t_max_predict_ms"] = self.t_max_predict_ms
        if self.ignore_eos:
            body["ignore_eos"] = True
        if self.until is not None:  # an answer closed early still says what it cost
            body["timings_per_token"] = True
        return body


@dataclass(frozen=True)
class ChatParams:
    """Options of one chat request (``/v1/chat/completions``).

    ``think`` switches the model's thinking on or off through the chat template
    (``chat_template_kwargs.enable_thinking``, honoured by Gemma 4's template); thinking text is
    never part of the streamed answer.
    """

    max_tokens: int = 1024
    sampling: Sampling = field(default_factory=lambda: Sampling(temperature=0.7))
    stop: tuple[str, ...] = ()
    think: bool = False
    cache_prompt: bool = True
    id_slot: int = -1
    timeout: float | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"max_tokens": self.max_tokens, "cache_prompt": self.cache_prompt,
                                "id_slot": self.id_slot,
                                "chat_template_kwargs": {"enable_thinking": self.think},
                                **self.sampling.to_json()}
        if self.stop:
            body["stop"] = list(self.stop)
        return body


@dataclass(frozen=True)
class Timings:
    """Server-side timings of one request: ``cache_n`` prompt tokens came from the prompt cache."""

    prompt_n: int = 0
    cache_n: int = 0
    predicted_n: int = 0
    prompt_ms: float = 0.0
    predicted_ms: float = 0.0

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Timings:
        if not data:
            return cls()
        return cls(prompt_n=int(data.get("prompt_n", 0)), cache_n=int(data.get("cache_n", 0)),
                   predicted_n=int(data.get("predicted_n", 0)),
                   prompt_ms=float(data.get("prompt_ms", 0.0)),
                   predicted_ms=float(data.get("predicted_ms", 0.0)))

    @property
    def server_ms(self) -> float:
        return self.prompt_ms + self.predicted_ms


@dataclass(frozen=True)
class TokenChoice:
    """One generated token, and the tokens the model found next most likely in its place (most
    likely first; the chosen one left out). ``text`` is None for a token that is part of a
    character (an incomplete UTF-8 sequence); such alternatives are left out."""

    text: str | None
    alternatives: tuple[str, ...] = ()

    @classmethod
    def from_llama(cls, entry: Mapping[str, Any]) -> TokenChoice:
        """From an entry of llama-server's ``completion_probabilities``."""
        chosen = entry.get("id")
        others = [_token_text(alt) for alt in entry.get("top_logprobs") or entry.get("probs") or []
                  if alt.get("id") != chosen]
        return cls(_token_text(entry), tuple(t for t in others if t is not None))


    @classmethod
    def from_openai(cls, logprobs: Mapping[str, Any] | None) -> list[TokenChoice]:
        """From a ``logprobs`` object of an OpenAI-style ``/v1/completions`` choice: the
        ``content`` list (llama-server, the entries above) or the classic ``tokens`` and
        ``top_logprobs`` lists (vLLM, SGLang)."""
        if not logprobs:
            return []
        if isinstance(logprobs.get("content"), list):
            return [cls.from_llama(e) for e in logprobs["content"] if isinstance(e, Mapping)]
        tokens = logprobs.get("tokens") or []
        tops = logprobs.get("top_logprobs") or [None] * len(tokens)
        out: list[TokenChoice] = []
        for token, top in zip(tokens, tops, strict=False):
            ranked = sorted((top or {}).items(), key=lambda kv: -float(kv[1]))
            out.append(cls(str(token), tuple(t for t, _ in ranked if t != token)))
        return out


def _token_text(entry: Mapping[str, Any]) -> str | None:
    raw = entry.get("bytes")
    if isinstance(raw, list):
        try:
            return bytes(raw).decode("utf-8")
        except (UnicodeDecodeError, ValueError):
            return None
    text = entry.get("token", entry.get("tok_str"))
    return text if isinstance(text, str) else None


@dataclass(frozen=True)
class Completion:
    """The answer of ``/completion`` or ``/infill``.

    ``stop_type`` is ``eos``, ``limit`` (n_predict reached), ``word`` (a stop string), ``done``
    (closed when ``CompletionParams.until`` said the answer was complete) or
    ``cancelled`` for a stream closed early. ``choices``: per generated token, the model's other
    likely tokens (asked for with ``CompletionParams.n_probs``; empty otherwise).
    """

    text: str
    timings: Timings
    stop_type: str = ""
    stopping_word: str = ""
    truncated: bool = False
    tokens_cached: int = 0
    id_slot: int = -1
    choices: tuple[TokenChoice, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any], text: str | None = None) -> Completion:
        return cls(
            text=str(data.get("content", "")) if text is None else text,
            timings=Timings.from_json(data.get("timings")),
            stop_type=str(data.get("stop_type", "")),
            stopping_word=str(data.get("stopping_word", "")),
            truncated=bool(data.get("truncated", False)),
            tokens_cached=int(data.get("tokens_cached", 0)),
            id_slot=int(data.get("id_slot", -1)),
        )
