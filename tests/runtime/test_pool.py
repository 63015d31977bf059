"""A pool of two real keyed llama-servers: affinity, failover when one dies, return when it is back."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from codeassist.runtime import LocalRuntime
from codeassist.runtime.backend import affinity
from codeassist.runtime.llama_client import ChatParams, CompletionParams
from codeassist.runtime.pool import EndpointPool
from tests.support.llama import runtime_settings
from tests.support.reach_fixtures import KeyedServers

PARAMS = CompletionParams(n_predict=1, timeout=120.0)


def _docs_per_server(pool: EndpointPool) -> dict[str, list[str]]:
    docs: dict[str, list[str]] = {url: [] for url in pool.urls}
    for i in range(40):
        docs[pool.route(f"src/file{i}.py")].append(f"src/file{i}.py")
    return docs


async def _tasks_seen(url: str, key: str) -> int:
    """How many tasks the server's completion slot has run (its /slots id_task)."""
    async with httpx.AsyncClient() as http:
        slots = (await http.get(f"{url}/slots", headers={"Authorization": f"Bearer {key}"})).json()
    return max(int(s.get("id_task", -1)) for s in slots)


async def test_affinity_failover_and_return(keyed_servers: KeyedServers, tmp_path: Path) -> None:
    settings = runtime_settings(tmp_path, **{"server.url": ",".join(keyed_servers.urls),
                                             "server.api_key": keyed_servers.key})
    runtime = LocalRuntime(settings)
    try:
        pool = await runtime.client()
        assert isinstance(pool, EndpointPool)
        docs = _docs_per_server(pool)
        assert all(docs.values())  # both servers get documents
        victim, survivor = keyed_servers.servers[0], keyed_servers.servers[1]
        doc = docs[victim.url][0]
        for _ in range(2):  # the same document keeps going to the same server
            before = await _tasks_seen(victim.url, keyed_servers.key)
            with affinity(doc):
                assert (await pool.complete("def f():\n", PARAMS)).timings.predicted_n > 0
            assert await _tasks_seen(victim.url, keyed_servers.key) > before

        pid = victim.status().pid
        os.kill(pid, signal.SIGKILL)
        killed = time.perf_counter()
        with affinity(doc):
            answer = await pool.complete("def f():\n", PARAMS)
        assert answer.timings.predicted_n > 0
        assert time.perf_counter() - killed < 5.0  # answered by the other server within 5 s
        assert pool.route(doc) == survivor.url
        states = {s.url: s.state for s in pool.status()}
        assert states == {victim.url: "down", survivor.url: "up"}

        await asyncio.to_thread(victim.start)  # back: its documents return to it
        deadline = time.perf_counter() + 10
        while pool.route(doc) != victim.url and time.perf_counter() < deadline:
            await asyncio.sleep(0.2)
        assert pool.route(doc) == victim.url
        before = await _tasks_seen(victim.url, keyed_servers.key)
        with affinity(doc):
            assert (await pool.complete("def f():\n", PARAMS)).timings.predicted_n > 0
        assert await _tasks_seen(victim.url, keyed_servers.key) > before
        assert {s.url: s.state for s in pool.status()} == {victim.url: "up", survivor.url: "up"}
    finally:
        await runtime.aclose()


async def test_chat_goes_to_the_least_busy(keyed_servers: KeyedServers, tmp_path: Path) -> None:
    settings = runtime_settings(tmp_path, **{"server.url": keyed_servers.urls,
                                             "server.api_key": keyed_servers.key})
    runtime = LocalRuntime(settings)
    try:
        pool = await runtime.client()
        assert isinstance(pool, EndpointPool)
        await pool.check()
        messages = [{"role": "user", "content": "hello"}]
        busy = pool.stream_chat(messages, ChatParams(max_tokens=400))
        async with busy:
            await busy.__anext__()  # one chat in flight on one server
            (first,) = [s.url for s in pool.status() if s.in_flight == 1]
            second = pool.stream_chat(messages, ChatParams(max_tokens=400))
            async with second:
                await second.__anext__()
                loads = {s.url: s.in_flight for s in pool.status()}
        assert loads[first] == 1 and sum(loads.values()) == 2  # the second went to the other server
    finally:
        await runtime.aclose()


def test_doctor_shows_each_endpoint(keyed_servers: KeyedServers) -> None:
    from tests.support.llama import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    env = {**os.environ, "CODEASSIST_SERVER_URL": f"{keyed_servers.urls[1]},{dead}",
           "CODEASSIST_SERVER_API_KEY": keyed_servers.key}
    done = subprocess.run([sys.executable, "-m", "codeassist", "doctor"], capture_output=True, text=True,
                          env=env, timeout=120, check=False)
    assert "1 of 2 servers up" in done.stdout, done.stdout + done.stderr
    assert f"{keyed_servers.urls[1]}: up (llama API," in done.stdout and " ms)" in done.stdout
    assert f"{dead}: down" in done.stdout
    assert keyed_servers.key not in done.stdout + done.stderr
