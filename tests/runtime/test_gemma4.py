"""Gemma 4 on its real architecture: a tiny random-weight ``gemma4`` GGUF with Gemma 4's own
vocabulary and chat template (tests/support/gemma4_tiny.py), served by the real llama-server with
the flags codeassist passes. The output is noise: the tests assert the protocol around it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from codeassist.completion import CompletionEngine
from codeassist.completion.types import CompletionRequest
from codeassist.config import CompletionSettings
from codeassist.errors import InfillUnsupportedError
from codeassist.runtime import LocalRuntime, gguf
from codeassist.runtime.llama_client import ChatParams, CompletionParams, LlamaClient, Sampling
from tests.support.llama import LlamaServerInfo
from tests.support.reach_fixtures import _managed

MARKERS = ("<|turn>", "<turn|>", "<|think|>", "<|channel>", "<channel|>", "<bos>", "<eos>")
SMALL = CompletionSettings(n_predict=8, prefix_tokens=256, suffix_tokens=64, context_tokens=0, timeout=120.0)
GREEDY = Sampling(temperature=0.0, top_k=1, top_p=1.0, min_p=0.0, seed=0)
SOURCE = "def area(radius):\n    return 3.14 * radius ** 2\n\n\ndef perimeter(radius):\n"


@pytest.fixture(scope="module")
def gemma4_server(tmp_path_factory: pytest.TempPathFactory, llama_server: LlamaServerInfo,
                  gemma4_model: Path) -> Iterator[Any]:
    server = _managed(tmp_path_factory, llama_server.binary, **{"model.path": str(gemma4_model)})
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_the_file_is_gemma4_with_the_real_vocabulary(gemma4_model: Path) -> None:
    info = gguf.read_info(gemma4_model)
    assert info.architecture == "gemma4" and info.sliding_window and not info.has_fim
    assert info.chat_template is not None and "<|turn>" in info.chat_template
    assert info.n_vocab == 262144
    assert gguf.Tokenizer(gemma4_model).tokenize("<|turn>user\nhi<turn|>") != []


def test_llama_server_loads_it_with_codeassists_flags(gemma4_server: Any) -> None:
    command = list(gemma4_server.status().command)
    assert "--swa-full" in command and "--jinja" in command
    assert command[command.index("-ngl") + 1] == "0"  # CPU build here; GPU builds pass "all"
    assert gemma4_server.status().state == "running"


async def _render(url: str, think: bool) -> str:
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(f"{url}/apply-template", json={
            "messages": [{"role": "user", "content": "Write a haiku."}],
            "chat_template_kwargs": {"enable_thinking": think}})
    response.raise_for_status()
    return str(response.json()["prompt"])


async def test_the_chat_template_renders_with_thinking_on_and_off(gemma4_server: Any) -> None:
    off, on = await _render(gemma4_server.url, False), await _render(gemma4_server.url, True)
    assert "<|turn>user\nWrite a haiku.<turn|>" in off
    # thinking off: the model turn opens with an empty thought channel; on: <|think|> in the system turn
    assert off.endswith("<|turn>model\n<|channel>thought\n<channel|>") and "<|think|>" not in off
    assert "<|think|>" in on and "<|turn>model" in on and on != off
    async with LlamaClient(gemma4_server.url) as client:
        for think in (False, True):
            stream = client.stream_chat([{"role": "user", "content": "hi"}],
                                        ChatParams(max_tokens=8, sampling=GREEDY, think=think))
            text = "".join([piece async for piece in stream])
            assert stream.result is not None
            assert not any(marker in text for marker in MARKERS)


async def test_the_fim_less_completion_path(gemma4_server: Any, tmp_path: Path) -> None:
    async with LlamaClient(gemma4_server.url) as client:
        with pytest.raises(InfillUnsupportedError):
            await client.infill("def f(", "):\n")
        stopped = await client.complete(SOURCE, CompletionParams(n_predict=32, sampling=GREEDY, stop=("\n",)))
        assert "\n" not in stopped.text and stopped.stop_type in ("word", "limit", "eos")
    from codeassist.config import load_settings

    settings = load_settings(None, overrides={"server.url": gemma4_server.url,
                                              "model.path": str(gemma4_server.settings.model.path)},
                             env={}, user_config=tmp_path / "none.toml")
    runtime = LocalRuntime(settings)
    engine = CompletionEngine(runtime, None, SMALL, root=tmp_path)
    try:
        result = await engine.complete(CompletionRequest(SOURCE, 4, 4, str(tmp_path / "geo.py"), "python"))
    finally:
        await runtime.aclose()
    assert engine.mode == "completion"  # Gemma 4 has no FIM tokens: the prompt-built path
    assert result.timings.prompt_tokens > 0
    assert not any(marker in item for item in result.items for marker in MARKERS)
