"""Prices of Claude models, in one place, and the dollar cost of a call.

USD per million tokens, by model family (Anthropic's public price list). Cache writes (5-minute
TTL) cost 1.25x the input price and cache reads 0.1x. Models served by the local llama-server
cost nothing. A model id that matches no family is priced like the most expensive family, so a
``--max-cost`` check errs on the safe side.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from codeassist.claude.datatypes import Usage
from codeassist.errors import CloudError

log = logging.getLogger(__name__)

__all__ = ["FREE", "Price", "call_cost", "estimate_cost", "price_for"]

CACHE_WRITE_FACTOR = 1.25
CACHE_READ_FACTOR = 0.10


@dataclass(frozen=True)
class Price:
    """USD per million tokens."""

    family: str
    input: float
    output: float

    @property
    def cache_write(self) -> float:
        return self.input * CACHE_WRITE_FACTOR

    @property
    def cache_read(self) -> float:
        return self.input * CACHE_READ_FACTOR


FREE = Price("local", 0.0, 0.0)

# First match wins: more specific patterns first.
_TABLE: list[tuple[re.Pattern[str], Price]] = [
    (re.compile(r"opus-4-(?:[5-9]|\d\d)"), Price("opus-4.5+", 5.0, 25.0)),
    (re.compile(r"opus"), Price("opus", 15.0, 75.0)),
    (re.compile(r"sonnet"), Price("sonnet", 3.0, 15.0)),
    (re.compile(r"haiku-4|haiku-[5-9]"), Price("haiku-4.5+", 1.0, 5.0)),
    (re.compile(r"3-5-haiku|haiku-3-5"), Price("haiku-3.5", 0.80, 4.0)),
    (re.compile(r"haiku"), Price("haiku-3", 0.25, 1.25)),
]
_UNKNOWN = Price("unknown (priced as opus)", 15.0, 75.0)


def price_for(model: str, *, local: bool = False) -> Price:
    """The price of ``model``; :data:`FREE` for a model served locally."""
    if local:
        return FREE
    for pattern, price in _TABLE:
        if pattern.search(model.lower()):
            return price
    log.warning("No price known for model %r; estimating with the most expensive family.", model)
    return _UNKNOWN


def call_cost(price: Price, usage: Usage) -> float:
    """Dollars charged for one call."""
    return (
        usage.input_tokens * price.input
        + usage.output_tokens * price.output
        + usage.cache_read_tokens * price.cache_read
        + usage.cache_write_tokens * price.cache_write
    ) / 1_000_000


def estimate_cost(price: Price, input_tokens: int, max_output_tokens: int, *, caching: bool = False) -> float:
    """Upper bound of one call's cost: no cache hit (every input token written to the cache when
    ``caching``), the full output budget used."""
    per_input = price.cache_write if caching else price.input
    return (input_tokens * per_input + max_output_tokens * price.output) / 1_000_000


def default_model(listed: list[tuple[str, str]], *, local: bool = False) -> str:
    """The model to use when none is configured: the newest Sonnet of the API's list of
    (id, created_at); a local server's first (only) model."""
    if local:
        return listed[0][0] if listed else "local"
    sonnets = [(created, model) for model, created in listed if "sonnet" in model]
    if not sonnets:
        raise CloudError("The API's model list has no Sonnet model to use by default.",
                         hint="Set claude.model (or pass --model) to one of: "
                              + ", ".join(model for model, _ in listed[:10]))
    return max(sonnets)[1]
