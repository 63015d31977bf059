"""A loopback TCP forwarder in front of llama-server that counts generation requests.

Point a client at ``tap.url`` instead of llama-server. For every ``POST /completion`` or
``POST /infill`` that passes, the tap notes whether llama-server's answer reached the client in
full (the final chunk of the chunked response) or whether the client closed the connection
first (a cancelled request: llama-server stops generating). Other requests (``/props``,
``/health``) pass uncounted.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

GENERATION = (b"POST /completion", b"POST /infill")
LAST_CHUNK = b"0\r\n\r\n"


@dataclass
class Counts:
    started: int = 0  # generation requests that reached llama-server
    answered: int = 0  # ... whose answer reached the client in full
    closed_early: int = 0  # ... that the client gave up on before the answer ended

    def minus(self, before: Counts) -> Counts:
        return Counts(self.started - before.started, self.answered - before.answered,
                      self.closed_early - before.closed_early)


class _Exchange:
    """The generation request in flight on one connection, if any."""

    def __init__(self) -> None:
        self.generating = False
        self.tail = b""


class ModelTap:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.counts = Counts()
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    def snapshot(self) -> Counts:
        c = self.counts
        return Counts(c.started, c.answered, c.closed_early)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        exchange = _Exchange()
        await asyncio.gather(self._client_to_model(reader, up_writer, exchange),
                             self._model_to_client(up_reader, writer, exchange))

    async def _client_to_model(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                               exchange: _Exchange) -> None:
        try:
            while data := await reader.read(65536):
                if data.startswith(GENERATION):
                    exchange.generating, exchange.tail = True, b""
                    self.counts.started += 1
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            if exchange.generating:  # the client went away before the answer ended
                exchange.generating = False
                self.counts.closed_early += 1
            writer.close()

    async def _model_to_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                               exchange: _Exchange) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
                if exchange.generating:
                    exchange.tail = (exchange.tail + data)[-len(LAST_CHUNK):]
                    if exchange.tail == LAST_CHUNK:
                        exchange.generating = False
                        self.counts.answered += 1
        except ConnectionError:
            pass
        finally:
            writer.close()
