"""Keys, TLS and URL lists: real keyed llama-servers and a real HTTPS front on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from codeassist.config import load_settings
from codeassist.errors import ConfigError, ServerAuthError, ServerUnavailableError
from codeassist.runtime import LocalRuntime
from codeassist.runtime.llama_client import CompletionParams, LlamaClient
from tests.support.fronts import TLSFront, make_ca_and_cert
from tests.support.llama import LlamaServerInfo, runtime_settings
from tests.support.reach_fixtures import KeyedServers


def _run(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "codeassist", *args], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, **env}, timeout=180, check=False)


async def test_missing_and_wrong_key_name_the_setting(keyed_servers: KeyedServers, tmp_path: Path) -> None:
    url = keyed_servers.urls[0]
    for key, words in (("", "needs an API key"), ("not-the-key", "was refused")):
        runtime = LocalRuntime(runtime_settings(tmp_path, **{"server.url": url, "server.api_key": key}))
        try:
            with pytest.raises(ServerAuthError) as info:
                client = await runtime.client()  # auto: the probe itself is refused
                await client.complete("x", CompletionParams(n_predict=1))
        finally:
            await runtime.aclose()
        assert info.value.status == 401
        assert words in (info.value.hint or "") and "server.api_key" in (info.value.hint or "")
        assert "not-the-key" not in str(info.value)  # the key is never repeated back
    async with LlamaClient(url, api_key=keyed_servers.key) as client:
        assert (await client.complete("def f():\n", CompletionParams(n_predict=2))).timings.predicted_n > 0


def test_cli_with_a_missing_key_and_the_key_from_the_environment(keyed_servers: KeyedServers,
                                                                 tmp_path: Path) -> None:
    source = tmp_path / "a.py"
    source.write_text("def add(a, b):\n    return a + b\n", encoding="utf-8")
    args = ("complete", str(source), "--line", "2", "--col", "4")
    slow = {"CODEASSIST_COMPLETION_N_PREDICT": "4", "CODEASSIST_COMPLETION_TIMEOUT": "120"}
    refused = _run(*args, cwd=tmp_path, CODEASSIST_SERVER_URL=keyed_servers.urls[0])
    assert refused.returncode == 4
    assert "server.api_key" in refused.stderr and "Traceback" not in refused.stderr
    ok = _run(*args, cwd=tmp_path, CODEASSIST_SERVER_URL=keyed_servers.urls[0],
              CODEASSIST_SERVER_API_KEY=keyed_servers.key, **slow)
    assert ok.returncode == 0, ok.stderr
    shown = _run("config", "show", "--json", cwd=tmp_path, CODEASSIST_SERVER_API_KEY=keyed_servers.key)
    assert keyed_servers.key not in shown.stdout
    assert json.loads(shown.stdout)["server.api_key"] == {"value": "(set)",
                                                          "source": "env CODEASSIST_SERVER_API_KEY"}


@pytest.mark.parametrize(("value", "bad"), [
    ("http://a:8012,,http://b:8012", "''"),
    ("http://a:8012, ftp://b:8012", "'ftp://b:8012'"),
    ("http://a:8012,http://b:80x12", "'http://b:80x12'"),
    ("a:8012", "'a:8012'"),
])
def test_bad_url_lists_are_one_clear_error(value: str, bad: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(None, env={"CODEASSIST_SERVER_URL": value}, user_config=Path("/nonexistent"))
    assert info.value.key == "server.url" and bad in info.value.message
    done = _run("doctor", CODEASSIST_SERVER_URL=value)
    assert done.returncode == 2 and bad in done.stderr and "Traceback" not in done.stderr


def test_url_lists_from_toml_and_environment(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[server]\nurl = ["http://a:8012", "https://b.example/"]\n', encoding="utf-8")
    urls = load_settings(None, env={}, user_config=config).server.url
    assert urls == ["http://a:8012", "https://b.example"]
    env = {"CODEASSIST_SERVER_URL": "http://a:8012,http://b:8012"}
    assert load_settings(None, env=env, user_config=config).server.url == ["http://a:8012", "http://b:8012"]


@pytest.fixture(scope="module")
def tls_front(tmp_path_factory: pytest.TempPathFactory, llama_server: LlamaServerInfo
              ) -> Iterator[tuple[TLSFront, Path]]:
    ca, cert, key = make_ca_and_cert(tmp_path_factory.mktemp("tls"))
    front = TLSFront(llama_server.port, cert, key).start()
    try:
        yield front, ca
    finally:
        front.stop()


async def test_https_with_and_without_the_private_ca(tls_front: tuple[TLSFront, Path],
                                                    tmp_path: Path) -> None:
    front, ca = tls_front
    untrusted = LocalRuntime(runtime_settings(tmp_path, **{"server.url": front.url, "server.api": "llama"}))
    try:
        client = await untrusted.client()
        with pytest.raises(ServerUnavailableError) as info:
            await client.complete("def f():\n", CompletionParams(n_predict=2))
        assert "not trusted" in info.value.message and "server.ca_bundle" in (info.value.hint or "")
    finally:
        await untrusted.aclose()
    trusted = LocalRuntime(runtime_settings(tmp_path, **{"server.url": front.url,
                                                         "server.ca_bundle": str(ca)}))
    try:
        client = await trusted.client()
        assert await client.health() == "ok"
        assert (await client.complete("def f():\n", CompletionParams(n_predict=2))).timings.predicted_n > 0
    finally:
        await trusted.aclose()
    missing = LocalRuntime(runtime_settings(tmp_path, **{"server.url": front.url,
                                                         "server.ca_bundle": str(tmp_path / "no.pem")}))
    with pytest.raises(ConfigError) as bad:
        await missing.client()
    assert bad.value.key == "server.ca_bundle"
