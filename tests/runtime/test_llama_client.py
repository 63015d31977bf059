"""LlamaClient against the real llama-server (tiny Gemma) and real loopback HTTP peers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from codeassist.errors import (
    InfillUnsupportedError,
    ServerRequestError,
    ServerTimeoutError,
    ServerUnavailableError,
)
from codeassist.runtime import gguf
from codeassist.runtime.llama_client import ChatParams, CompletionParams, LlamaClient, Sampling
from tests.support.llama import LlamaServerInfo, free_port

GREEDY = Sampling(temperature=0.0, seed=1)
CODE = "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n"


async def _wait_slot_idle(client: LlamaClient, slot: int, within: float = 5.0) -> float:
    """Seconds until ``slot`` is no longer processing (fails the test after ``within``)."""
    start = time.monotonic()
    while time.monotonic() - start < within:
        slots = await client.slots()
        if not next(s for s in slots if s["id"] == slot)["is_processing"]:
            return time.monotonic() - start
        await asyncio.sleep(0.05)
    pytest.fail(f"slot {slot} still processing after {within} s")


async def test_health_props_and_tokenize(llama_server: LlamaServerInfo) -> None:
    async with LlamaClient(llama_server.url) as client:
        assert await client.health() == "ok"
        props = await client.props()
        assert props["total_slots"] >= 2
        assert props["model_path"] == str(llama_server.model)
        tokens = await client.tokenize(CODE)
        assert tokens and all(isinstance(t, int) for t in tokens)
        # the in-process tokenizer (vocab only) counts exactly what the server counts
        assert gguf.Tokenizer(llama_server.model).count(CODE) == len(tokens)


async def test_complete_respects_n_predict_and_stop(llama_server: LlamaServerInfo) -> None:
    async with LlamaClient(llama_server.url) as client:
        done = await client.complete(CODE, CompletionParams(n_predict=8, sampling=GREEDY, ignore_eos=True))
        assert done.timings.predicted_n == 8
        assert done.stop_type == "limit"
        assert done.text
        stopped = await client.complete(CODE, CompletionParams(n_predict=64, sampling=GREEDY, stop=("\n",)))
        assert "\n" not in stopped.text
        assert stopped.timings.predicted_n <= 64


async def test_the_model_s_other_likely_tokens_come_with_the_answer(llama_server: LlamaServerInfo) -> None:
    async with LlamaClient(llama_server.url) as client:
        params = CompletionParams(n_predict=8, sampling=GREEDY, ignore_eos=True, n_probs=3)
        done = await client.complete(CODE, params)
        plain = await client.complete(CODE, CompletionParams(n_predict=8, sampling=GREEDY, ignore_eos=True))
    assert done.text == plain.text and not plain.choices  # asking for them changes nothing else
    assert len(done.choices) == 8
    # the tokens spell the answer; each brings the others the model found likely, not itself
    assert "".join(c.text or "" for c in done.choices) == done.text
    assert all(len(c.alternatives) == 2 and c.text not in c.alternatives for c in done.choices)


async def test_prompt_cache_reuse_shows_in_timings(llama_server: LlamaServerInfo) -> None:
    prompt = CODE * 8
    params = CompletionParams(n_predict=4, sampling=GREEDY, id_slot=0)
    async with LlamaClient(llama_server.url) as client:
        n_prompt = len(await client.tokenize(prompt, add_special=True))
        await client.complete(prompt, params)
        again = await client.complete(prompt, params)
        assert again.timings.cache_n >= n_prompt - 2
        assert again.timings.prompt_n <= 2
        no_cache = await client.complete(prompt, CompletionParams(n_predict=4, sampling=GREEDY, id_slot=0,
                                                                  cache_prompt=False))
        assert no_cache.timings.cache_n == 0


async def test_slots_are_pinned(llama_server: LlamaServerInfo) -> None:
    async with LlamaClient(llama_server.url) as client:
        for slot in (0, 1):
            done = await client.complete(CODE, CompletionParams(n_predict=2, sampling=GREEDY, id_slot=slot))
            assert done.id_slot == slot


async def test_stream_complete_pieces_add_up(llama_server: LlamaServerInfo) -> None:
    async with LlamaClient(llama_server.url) as client:
        params = CompletionParams(n_predict=12, sampling=GREEDY, ignore_eos=True)
        stream = client.stream_complete(CODE, params)
        pieces = [piece async for piece in stream]
        assert len(pieces) > 1
        assert stream.result is not None
        assert stream.result.text == "".join(pieces)
        assert stream.result.timings.predicted_n == 12
        plain = await client.complete(CODE, params)
        assert plain.text == stream.result.text  # greedy: the same tokens either way


async def test_closing_a_stream_frees_the_slot(llama_server: LlamaServerInfo) -> None:
    params = CompletionParams(n_predict=4000, sampling=GREEDY, ignore_eos=True, id_slot=0)
    async with LlamaClient(llama_server.url) as client:
        async with client.stream_complete(CODE, params) as stream:
            got = [await stream.__anext__() for _ in range(3)]
        assert len(got) == 3 and stream.result is None
        # 4000 tokens take minutes here; the slot is free again within seconds
        await _wait_slot_idle(client, 0, within=10.0)
        after = await client.complete(CODE, CompletionParams(n_predict=4, sampling=GREEDY, id_slot=0))
        assert after.timings.predicted_n == 4 and after.id_slot == 0


async def test_cancelling_a_request_stops_generation(llama_server: LlamaServerInfo) -> None:
    params = CompletionParams(n_predict=4000, sampling=GREEDY, ignore_eos=True, id_slot=1)
    async with LlamaClient(llama_server.url) as client:
        task = asyncio.create_task(client.complete(CODE, params))
        while not next(s for s in await client.slots() if s["id"] == 1)["is_processing"]:
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # 4000 tokens take minutes here; the server notices the closed connection within seconds
        await _wait_slot_idle(client, 1, within=10.0)


async def test_until_closes_the_answer_and_the_server_stops(llama_server: LlamaServerInfo) -> None:
    asked: list[str] = []

    def two_lines(text: str) -> bool:
        asked.append(text)
        return text.count("\n") >= 2

    params = CompletionParams(n_predict=400, sampling=GREEDY, ignore_eos=True, id_slot=1, until=two_lines)
    async with LlamaClient(llama_server.url) as client:
        done = await client.complete(CODE, params)
        assert done.stop_type == "done"
        assert done.text.count("\n") >= 2 and done.text == asked[-1]
        assert all(a.count("\n") < 2 for a in asked[:-1])  # asked at each newline until it said so
        # the answer closed early still reports what it cost, and far fewer than 400 tokens ran
        assert 0 < done.timings.predicted_n < 400 and done.timings.prompt_n > 0
        await _wait_slot_idle(client, 1, within=10.0)
        # streamed by the caller: the same end, at the same text
        async with client.stream_complete(CODE, params) as stream:
            pieces = [piece async for piece in stream]
        assert stream.result is not None and stream.result.stop_type == "done"
        assert "".join(pieces) == done.text
        await _wait_slot_idle(client, 1, within=10.0)


async def test_infill_on_a_model_without_fim_raises(llama_server: LlamaServerInfo) -> None:
    async with LlamaClient(llama_server.url) as client:
        with pytest.raises(InfillUnsupportedError) as info:
            await client.infill("def f(x):\n    return ", "\n", [{"filename": "a.py", "text": "X = 1\n"}])
        assert info.value.status == 501
        assert "fill in the middle" in info.value.message


async def test_stream_chat(llama_server: LlamaServerInfo) -> None:
    messages = [{"role": "system", "content": "You write Python."},
                {"role": "user", "content": "Write a hello world program."}]
    async with LlamaClient(llama_server.url) as client:
        stream = client.stream_chat(messages, ChatParams(max_tokens=8, sampling=GREEDY, id_slot=1))
        pieces = [p async for p in stream]
        assert pieces
        assert stream.result is not None and stream.result.text == "".join(pieces)
        thinking = client.stream_chat(messages, ChatParams(max_tokens=4, think=True, id_slot=1))
        async for _ in thinking:
            pass
        assert thinking.result is not None  # the server accepted the thinking switch and finished


async def test_request_over_the_context_is_a_request_error(llama_server: LlamaServerInfo) -> None:
    async with LlamaClient(llama_server.url) as client:
        with pytest.raises(ServerRequestError) as info:
            await client.complete(CODE * 400, CompletionParams(n_predict=4, id_slot=0))
        assert info.value.status == 400
        assert "context" in info.value.message


async def test_timeout_maps_to_server_timeout(llama_server: LlamaServerInfo) -> None:
    params = CompletionParams(n_predict=4000, ignore_eos=True, id_slot=1, timeout=0.3)
    async with LlamaClient(llama_server.url) as client:
        with pytest.raises(ServerTimeoutError):
            await client.complete(CODE, params)
        await _wait_slot_idle(client, 1, within=10.0)


async def test_unreachable_server() -> None:
    async with LlamaClient(f"http://127.0.0.1:{free_port()}") as client:
        with pytest.raises(ServerUnavailableError) as info:
            await client.health()
        assert "codeassist server start" in (info.value.hint or "")
        with pytest.raises(ServerUnavailableError):
            await client.complete("x")
        with pytest.raises(ServerUnavailableError):
            [p async for p in client.stream_complete("x")]


async def test_loading_server_and_foreign_servers(http_peer: Callable[..., str]) -> None:
    loading = http_peer(503, b'{"error": {"code": 503, "message": "Loading model"}}')
    async with LlamaClient(loading) as client:
        assert await client.health() == "loading"
        with pytest.raises(ServerUnavailableError, match="Loading model"):
            await client.complete("x")
    not_llama = http_peer(200, b"<html>hello</html>", "text/html")
    async with LlamaClient(not_llama) as client:
        with pytest.raises(ServerRequestError, match="not JSON"):
            await client.props()
    missing = http_peer(404, b"not found", "text/plain")
    async with LlamaClient(missing) as client:
        with pytest.raises(ServerRequestError) as info:
            [p async for p in client.stream_chat([{"role": "user", "content": "hi"}])]
        assert info.value.status == 404


class _DropsOnReuse:
    """A loopback proxy to llama-server that closes a kept-alive connection when its second
    request arrives, without answering it: the race of a server closing an idle connection just
    as the client reuses it."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.dropped = 0
        self.connections = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def downstream() -> None:
            while data := await up_reader.read(65536):
                writer.write(data)
                await writer.drain()

        pipe = asyncio.ensure_future(downstream())
        requests = 0
        try:
            while data := await reader.read(65536):
                if data.startswith((b"GET ", b"POST ")):
                    requests += 1
                    if requests == 2 and self.dropped == 0:
                        self.dropped += 1
                        return  # closed without an answer
                up_writer.write(data)
                await up_writer.drain()
        finally:
            pipe.cancel()
            writer.close()
            up_writer.close()


@pytest.mark.parametrize("second", ["complete", "props"])
async def test_a_connection_closed_as_it_is_reused_is_retried(llama_server: LlamaServerInfo,
                                                              second: str) -> None:
    proxy = _DropsOnReuse(llama_server.port)
    async with proxy as url, LlamaClient(url, timeout=60) as client:
        assert (await client.props())["model_path"]
        if second == "complete":
            answer = await client.complete("def add(a, b):\n    return", CompletionParams(n_predict=4))
            assert answer.timings.predicted_n > 0
        else:
            assert (await client.props())["model_path"]
    assert proxy.dropped == 1  # the request did hit the closing connection
    assert proxy.connections == 2  # and went again on a fresh one
