"""Helpers for the language-server tests: a sample repository and client-side plumbing."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

import httpx
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

SERVER_CMD = [sys.executable, "-m", "codeassist", "lsp", "--probe-interval", "0.3"]
CLIENTS = ["neovim", "visual-studio-code"]
T = TypeVar("T")

PY = '''import math


class Circle:
    """A circle."""

    def __init__(self, radius: float) -> None:
        self.radius = radius

    def area(self) -> float:
        return math.pi * self.radius ** 2


def total_area(circles: list[Circle]) -> float:
    # add up the area of every circle
    return sum(c.area() for c in circles)
'''
JS = '''function greet(name) {
  return "Hello, " + name;
}

class Counter {
  constructor() {
    this.count = 0;
  }
  increment() {
    this.count += 1;
  }
}
'''
GO = '''package main

import "fmt"

func fib(n int) int {
\tif n < 2 {
\t\treturn n
\t}
\treturn fib(n-1) + fib(n-2)
}

func main() {
\tfmt.Println(fib(10))
}
'''
UTILS = '''def slugify(text: str) -> str:
    return "-".join(text.lower().split())


def unused_helper_for_search() -> int:
    return 42
'''


def make_repo(root: Path) -> Path:
    """A small git repository with Python, JavaScript and Go files."""
    (root / "pkg").mkdir(parents=True)
    (root / "shapes.py").write_text(PY, encoding="utf-8")
    (root / "greet.js").write_text(JS, encoding="utf-8")
    (root / "fib.go").write_text(GO, encoding="utf-8")
    (root / "pkg" / "utils.py").write_text(UTILS, encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "."], check=True)
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com",
                    "commit", "-q", "-m", "init"], check=True)
    return root


def capabilities(name: str) -> types.ClientCapabilities:
    """The client's published capabilities plus LSP 3.18 inline completion."""
    caps = client_capabilities(name)
    assert caps.text_document is not None
    caps.text_document.inline_completion = types.InlineCompletionClientCapabilities()
    return caps


async def start(client: LanguageClient, root: Path, name: str, options: dict[str, Any] | None
                ) -> types.InitializeResult:
    return await client.initialize_session(types.InitializeParams(
        capabilities=capabilities(name), root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
        initialization_options=options))


def open_doc(client: LanguageClient, path: Path, language: str, version: int = 1) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id=language, version=version, text=path.read_text(encoding="utf-8"))))
    return uri


def change(client: LanguageClient, uri: str, version: int, start: tuple[int, int], end: tuple[int, int],
           text: str) -> None:
    """One incremental edit of an open document (what an editor sends as the user types)."""
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=start[0], character=start[1]),
                              end=types.Position(line=end[0], character=end[1])), text=text)]))


def typed_up_to(client: LanguageClient, uri: str, version: int, line: int, col: int) -> None:
    """The line as if the user had typed it up to ``col``: the rest of it is deleted."""
    change(client, uri, version, (line, col), (line, 10_000), "")


def inline_params(uri: str, line: int, character: int) -> types.InlineCompletionParams:
    return types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=line, character=character),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic))


async def wait_for(predicate: Any, timeout: float = 30.0, interval: float = 0.1) -> None:
    """Poll ``predicate`` (sync or async) until it is true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)


def send(client: LanguageClient, params: types.InlineCompletionParams,
         msg_id: str | None = None) -> asyncio.Future[Any]:
    """Send an inline completion request now; await the returned future for its answer."""
    return asyncio.ensure_future(client.protocol.send_request_async(
        types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=msg_id))


async def answered(awaitable: Awaitable[T], timeout: float = 180.0) -> T:
    """Await an answer, failing (not hanging) when none comes within ``timeout`` seconds."""
    try:
        return await asyncio.wait_for(awaitable, timeout)
    except TimeoutError:
        raise AssertionError(f"no answer within {timeout} s") from None


async def ready(client: LanguageClient, timeout: float = 120.0) -> None:
    """Until the server reports the model server attached (slow machines take a while)."""
    await wait_for(lambda: any(s["state"] == "ready" for s in statuses(client)), timeout=timeout)


async def model_busy(url: str) -> bool:
    """Whether llama-server is working on a request right now."""
    async with httpx.AsyncClient() as http:
        slots = (await http.get(f"{url}/slots", timeout=10)).json()
    return any(slot["is_processing"] for slot in slots)


async def model_idle(url: str) -> bool:
    return not await model_busy(url)


def statuses(client: LanguageClient) -> list[dict[str, Any]]:
    return client.codeassist_statuses  # type: ignore[attr-defined, no-any-return]


class Forwarder:
    """A loopback TCP forwarder: stands in for a model server that comes back on its address."""

    def __init__(self, port: int, target_port: int) -> None:
        self.port = port
        self.target_port = target_port
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._pipe_both, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _pipe_both(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


class Gate(Forwarder):
    """A forwarder that, once armed, holds back llama-server's answer to the next generation
    request (POST /completion or /infill) until :meth:`release` or until the client closes that
    HTTP connection.

    ``held`` is set when such a request has passed through to llama-server; ``closed`` when the
    connection it came on is gone; ``delivered`` when the held answer reached the client.
    Requests before arming, and all other requests, pass both ways as usual.
    """

    GENERATION = (b"POST /completion", b"POST /infill")

    def __init__(self, port: int, target_port: int) -> None:
        super().__init__(port, target_port)
        self.armed = False
        self.held = asyncio.Event()
        self.closed = asyncio.Event()
        self.delivered = asyncio.Event()  # the held answer went to the client after release()
        self._released = asyncio.Event()

    def release(self) -> None:
        self._released.set()

    async def _pipe_both(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        holding, gone = asyncio.Event(), asyncio.Event()
        await asyncio.gather(self._upstream(reader, up_writer, holding, gone),
                             self._downstream(up_reader, writer, holding, gone))

    async def _upstream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                        holding: asyncio.Event, gone: asyncio.Event) -> None:
        try:
            while data := await reader.read(65536):
                if self.armed and data.startswith(self.GENERATION):
                    self.armed = False
                    holding.set()
                    self.held.set()
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            gone.set()
            if holding.is_set():
                self.closed.set()
            writer.close()  # llama-server sees its client go away

    async def _downstream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                          holding: asyncio.Event, gone: asyncio.Event) -> None:
        try:
            while data := await reader.read(65536):
                if holding.is_set():
                    await _first_of(self._released, gone)
                if gone.is_set():
                    continue  # nobody to answer to
                writer.write(data)
                await writer.drain()
                if holding.is_set():
                    self.delivered.set()
        except ConnectionError:
            pass
        finally:
            writer.close()


async def _first_of(*events: asyncio.Event) -> None:
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    _, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def raw_request(client: LanguageClient, msg_id: int, method: str, params: Any) -> Any:
    """Send a request exactly as given (no client-side validation) and wait for its answer."""
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    client.protocol._request_futures[msg_id] = future  # type: ignore[assignment]
    client.protocol._send_data({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
    return await asyncio.wait_for(future, timeout=30)
