"""FIM through the OpenAI API: the model's FIM tokens written into a raw /v1/completions prompt.

The Qwen2.5-Coder llama-server is reached only through an OpenAI-only front (no /infill); with the
model file known here (`model.path`) the engine still fills in the middle.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from codeassist.completion import CompletionEngine, CompletionRequest
from codeassist.runtime import LocalRuntime
from codeassist.runtime.openai_client import OpenAIClient
from codeassist.runtime.params import CompletionParams, Sampling
from tests.completion import fim_model
from tests.completion.conftest import settings_for, small
from tests.support.fronts import OpenAIFront

MAIN = "def add(a, b):\n    return \n\n\nprint(add(1, 2))\n"


@pytest.fixture(scope="module")
def qwen_front(qwen_server: str) -> Iterator[OpenAIFront]:
    front = OpenAIFront(int(urlsplit(qwen_server).port or 0)).start()
    try:
        yield front
    finally:
        front.stop()


async def test_fim_tokens_in_the_prompt(qwen_front: OpenAIFront, tmp_path: Path) -> None:
    settings = settings_for(qwen_front.url, tmp_path, **{"server.api": "openai",
                                                         "model.path": str(fim_model.assemble())})
    runtime = LocalRuntime(settings)
    engine = CompletionEngine(runtime, None, small(), root=tmp_path)
    try:
        result = await engine.complete(CompletionRequest(MAIN, 1, 11, str(tmp_path / "main.py"), "python"))
        client = await runtime.client()
        assert isinstance(client, OpenAIClient)
    finally:
        await runtime.aclose()
    assert engine.mode == "infill"  # the FIM prompt, on /v1/completions
    assert result.items and "a" in result.items[0] and "b" in result.items[0]
    assert qwen_front.native_paths() == []


async def test_the_other_likely_tokens_through_the_openai_api(qwen_front: OpenAIFront,
                                                             tmp_path: Path) -> None:
    settings = settings_for(qwen_front.url, tmp_path, **{"server.api": "openai"})
    runtime = LocalRuntime(settings)
    try:
        client = await runtime.client()
        assert isinstance(client, OpenAIClient)
        done = await client.complete("def add(a, b):\n", CompletionParams(
            n_predict=6, sampling=Sampling(temperature=0.0, seed=0), n_probs=3, ignore_eos=True))
    finally:
        await runtime.aclose()
    assert len(done.choices) == 6
    assert "".join(c.text or "" for c in done.choices) == done.text
    assert all(len(c.alternatives) == 2 and c.text not in c.alternatives for c in done.choices)
