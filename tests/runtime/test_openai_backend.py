"""The OpenAI-compatible backend against a real llama-server seen only through its OpenAI API.

The front answers 404 to every native route (``/props``, ``/completion``, ``/infill``,
``/tokenize``, ``/slots``), as vLLM or SGLang would; each test asserts none was asked for.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from codeassist.completion import CompletionEngine
from codeassist.completion.types import CompletionRequest
from codeassist.config import CompletionSettings
from codeassist.errors import InfillUnsupportedError
from codeassist.runtime import LocalRuntime, gguf
from codeassist.runtime.llama_client import ChatParams, CompletionParams, LlamaClient, Sampling
from codeassist.runtime.openai_client import OpenAIClient
from codeassist.runtime.params import TokenChoice
from codeassist.runtime.transport import Endpoint
from tests.support.fronts import OpenAIFront
from tests.support.llama import LlamaServerInfo, runtime_settings

SMALL = CompletionSettings(n_predict=8, prefix_tokens=256, suffix_tokens=64, context_tokens=0, timeout=120.0)
GREEDY = Sampling(temperature=0.0, top_k=1, top_p=1.0, min_p=0.0, seed=0)
CODE = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n"
SOURCE = '''import math


def area(radius):
    return math.pi * radius ** 2


def circumference(radius):
    return 2 * math.pi * radius
'''


async def _slot_idle(llama_server: LlamaServerInfo, within: float = 10.0) -> bool:
    async with httpx.AsyncClient() as http:
        deadline = asyncio.get_running_loop().time() + within
        while asyncio.get_running_loop().time() < deadline:
            slots = (await http.get(f"{llama_server.url}/slots")).json()
            if not any(s.get("is_processing") for s in slots):
                return True
            await asyncio.sleep(0.05)
    return False


async def test_completion_stops_and_usage(openai_front: OpenAIFront) -> None:
    before = len(openai_front.paths)
    async with OpenAIClient(Endpoint(openai_front.url)) as client:
        assert await client.health() == "ok"
        assert (await client.props())["model"]  # the id /v1/models lists
        done = await client.complete(CODE, CompletionParams(n_predict=8, sampling=GREEDY, ignore_eos=True))
        assert done.timings.predicted_n == 8 and done.stop_type == "limit" and done.text
        stopped = await client.complete(CODE, CompletionParams(n_predict=64, sampling=GREEDY, stop=("\n",)))
        assert "\n" not in stopped.text
    assert openai_front.native_paths() == [] and len(openai_front.paths) > before


async def test_until_closes_the_completion(openai_front: OpenAIFront, llama_server: LlamaServerInfo) -> None:
    params = CompletionParams(n_predict=400, sampling=GREEDY, ignore_eos=True,
                              until=lambda text: "\n" in text)
    async with OpenAIClient(Endpoint(openai_front.url)) as client:
        done = await client.complete(CODE, params)
    assert done.stop_type == "done" and "\n" in done.text
    assert "\n" not in done.text.rstrip("\n")  # closed at the first line break, not 400 tokens on
    assert await _slot_idle(llama_server)  # closing the stream stopped the server's generation


async def test_token_counts_exact_with_the_model_file_else_measured(openai_front: OpenAIFront,
                                                                    llama_server: LlamaServerInfo) -> None:
    exact = gguf.Tokenizer(llama_server.model).count(SOURCE * 4)
    from codeassist.runtime.backend import BackendOptions

    async with OpenAIClient(Endpoint(openai_front.url), options=BackendOptions(model_path=str(
            llama_server.model))) as known:
        assert await known.count_tokens(SOURCE * 4) == exact
    async with OpenAIClient(Endpoint(openai_front.url)) as remote:
        estimate = await remote.count_tokens(SOURCE * 4)
        assert remote.chars_per_token is not None  # measured on this server's usage answers
    assert 0.7 * exact <= estimate <= 1.3 * exact
    assert openai_front.native_paths() == []


async def test_infill_without_fim_tokens_falls_back(openai_front: OpenAIFront) -> None:
    async with OpenAIClient(Endpoint(openai_front.url)) as client:
        with pytest.raises(InfillUnsupportedError) as info:
            await client.infill("def f(x):\n    return ", "\n")
    assert "model.path" in (info.value.hint or "")


async def test_chat_streams_and_closing_stops_the_server(openai_front: OpenAIFront,
                                                         llama_server: LlamaServerInfo) -> None:
    messages = [{"role": "user", "content": "Say hello."}]
    async with OpenAIClient(Endpoint(openai_front.url)) as client:
        stream = client.stream_chat(messages, ChatParams(max_tokens=8, sampling=GREEDY))
        pieces = [p async for p in stream]
        assert pieces and stream.result is not None and stream.result.text == "".join(pieces)
        long = client.stream_complete(CODE, CompletionParams(n_predict=2000, sampling=GREEDY,
                                                             ignore_eos=True))
        async with long:
            async for _ in long:
                break  # closing after the first piece closes the request
        assert await _slot_idle(llama_server)
    assert openai_front.native_paths() == []


async def test_auto_probe_picks_the_api(openai_front: OpenAIFront, llama_server: LlamaServerInfo,
                                        tmp_path: Path) -> None:
    for url, kind in ((openai_front.url, OpenAIClient), (llama_server.url, LlamaClient)):
        runtime = LocalRuntime(runtime_settings(tmp_path, **{"server.url": url}))
        try:
            assert isinstance(await runtime.client(), kind)
        finally:
            await runtime.aclose()
    openai_front.forget()  # "auto" asked the front for native routes on purpose; later tests must not


async def test_engine_completes_through_the_openai_api(openai_front: OpenAIFront, tmp_path: Path) -> None:
    settings = runtime_settings(tmp_path, **{"server.url": openai_front.url, "server.api": "openai"})
    runtime = LocalRuntime(settings)
    engine = CompletionEngine(runtime, None, SMALL, root=tmp_path)
    try:
        result = await engine.complete(CompletionRequest(SOURCE, 8, 4, str(tmp_path / "geo.py"), "python"))
        assert engine.mode == "completion"  # no /infill: the FIM-less prompt on /v1/completions
        assert result.timings.prompt_tokens > 0
        snippet = await engine.generate_snippet("a function that doubles a number", "", language="python")
        assert isinstance(snippet, str)
    finally:
        await runtime.aclose()
    assert openai_front.native_paths() == []


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "codeassist", *args], cwd=cwd, capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=240, check=False)


def test_complete_and_ask_cli_in_openai_mode(openai_front: OpenAIFront, tmp_path: Path) -> None:
    source = tmp_path / "geo.py"
    source.write_text(SOURCE, encoding="utf-8")
    env = {"CODEASSIST_SERVER_URL": openai_front.url, "CODEASSIST_SERVER_API": "openai",
           "CODEASSIST_COMPLETION_N_PREDICT": "8", "CODEASSIST_COMPLETION_TIMEOUT": "120"}
    done = _run(["complete", str(source), "--line", "9", "--col", "5", "--json"], tmp_path, env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["timings"]["mode"] == "completion"
    asked = _run(["ask", "--route", "local", "what does area return?"], tmp_path,
                 {**env, "CODEASSIST_CHAT_MAX_TOKENS": "16"})
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.strip()
    assert openai_front.native_paths() == []


def test_local_refactor_says_the_server_has_no_messages_api(openai_front: OpenAIFront,
                                                           tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a.py").write_text("def f():\n    return 1\n", encoding="utf-8")
    commit = ["-c", "user.email=t@e", "-c", "user.name=t", "commit", "-qm", "x"]
    for cmd in (["init", "-q"], ["add", "."], commit):
        subprocess.run(["git", *cmd], cwd=repo, check=True, capture_output=True)
    done = _run(["refactor", "--local", "--yes", "Rename f to g"], repo,
                {"CODEASSIST_SERVER_URL": openai_front.url})
    assert done.returncode == 4, done.stderr
    assert "no Anthropic Messages API" in done.stderr and "Traceback" not in done.stderr


def test_the_classic_logprobs_lists_of_vllm_and_sglang() -> None:
    # the shape of a streamed /v1/completions choice's `logprobs` on vLLM (one token per event)
    logprobs = {"tokens": ["    ", "return"], "token_logprobs": [-0.1, -1.2], "text_offset": [0, 4],
                "top_logprobs": [{"    ": -0.1, "\t": -2.5}, {"return": -1.2, "res": -1.4, "print": -1.9}]}
    choices = TokenChoice.from_openai(logprobs)
    assert [c.text for c in choices] == ["    ", "return"]
    assert [c.alternatives for c in choices] == [("\t",), ("res", "print")]
    assert TokenChoice.from_openai(None) == []
