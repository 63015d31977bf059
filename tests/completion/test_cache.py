"""The LRU cache: exact hits, type-through reuse, eviction."""

from __future__ import annotations

from codeassist.completion.cache import CompletionCache


def test_exact_hit_and_miss() -> None:
    cache = CompletionCache(size=4)
    cache.put("a.py", "above\n", "    x = ", "\n", ["compute(1)"])
    assert cache.get("a.py", "above\n", "    x = ", "\n") == ["compute(1)"]
    assert cache.get("b.py", "above\n", "    x = ", "\n") is None
    assert cache.get("a.py", "other\n", "    x = ", "\n") is None
    assert cache.get("a.py", "above\n", "    x = ", "\nchanged") is None


def test_type_through_serves_the_rest() -> None:
    cache = CompletionCache(size=4)
    cache.put("a.py", "above\n", "    x = ", "\n", ["compute(1)"])
    assert cache.get("a.py", "above\n", "    x = com", "\n") == ["pute(1)"]
    assert cache.get("a.py", "above\n", "    x = compute(1", "\n") == [")"]
    # typed everything: nothing left to suggest from this entry
    assert cache.get("a.py", "above\n", "    x = compute(1)", "\n") is None
    # typed something else
    assert cache.get("a.py", "above\n", "    x = cond", "\n") is None


def test_type_through_is_bounded() -> None:
    cache = CompletionCache(size=4, max_type_through=3)
    cache.put("a.py", "", "", "", ["abcdefgh"])
    assert cache.get("a.py", "", "abc", "") == ["defgh"]
    assert cache.get("a.py", "", "abcd", "") is None


def test_lru_eviction_and_empty_items() -> None:
    cache = CompletionCache(size=2)
    cache.put("a.py", "", "1", "", ["one"])
    cache.put("a.py", "", "2", "", ["two"])
    assert cache.get("a.py", "", "1", "") == ["one"]  # 1 is now the most recent
    cache.put("a.py", "", "3", "", ["three"])
    assert cache.get("a.py", "", "2", "") is None
    assert cache.get("a.py", "", "1", "") == ["one"]
    cache.put("a.py", "", "4", "", [])
    assert len(cache) == 2
    assert cache.get("a.py", "", "3", "") is None  # evicted by the empty answer


def test_no_suggestion_is_remembered_for_the_exact_position_only() -> None:
    cache = CompletionCache()
    cache.put("a.py", "x = 1\n", "y = ", "\n", [])
    assert cache.get("a.py", "x = 1\n", "y = ", "\n") == []  # a hit: the model had nothing here
    assert cache.get("a.py", "x = 1\n", "y = 2", "\n") is None  # typing on: ask again
    assert cache.get("a.py", "x = 2\n", "y = ", "\n") is None  # other text around: ask again
