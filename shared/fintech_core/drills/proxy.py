"""A TCP fault proxy: it sits between a client and the API and breaks the network on cue.

Why our own: toxiproxy, the usual tool, is a Go server that is neither on PyPI nor in Debian
(PyPI's `toxiproxy-python` is only a client for it). This one is asyncio in a background thread,
and its faults are real: the client's socket sees a genuine silence, FIN or RST, and the server
really did (or really did not) receive the request.

A fault is taken when a connection is accepted and applies to that connection. Drill clients
open one connection per request (no keep-alive), so "the next connection" is "the next request".
- pass     bytes flow both ways untouched
- delay    the response is held `delay_ms` before it is forwarded
- drop     the request reaches the server; once its response starts (the handler has finished,
           committed or not) the proxy swallows it and closes the client connection (FIN)
- timeout  like drop, but the client connection stays open and silent until the client gives up
- reset    the request never reaches the server; the client gets a TCP RST
- cut      the response headers and the first `cut_bytes` body bytes pass, then the connection
           is closed mid-body
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from dataclasses import replace
from typing import Any, get_args

from fintech_core.drills.link import Fault, Listener, Mode, serve

MODES: tuple[str, ...] = get_args(Mode)


class FaultProxy:
    def __init__(self, upstream_host: str, upstream_port: int, *, host: str = "127.0.0.1",
                 listener: Listener | None = None, hold_s: float = 60.0) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.host, self.port, self.hold_s = host, 0, hold_s
        self.listener = listener or (lambda mode, text: None)
        self.connections = 0
        self._fault = Fault()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy",
                                        daemon=True)
        self._thread.start()
        self._server = self._call(asyncio.start_server(self._handle, self.host, 0))
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        self._call(shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def arm(self, mode: Mode, *, delay_ms: int = 0, cut_bytes: int = 0, times: int = 1) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {MODES}")
        with self._lock:
            self._fault = Fault(mode, delay_ms, cut_bytes, times)

    def clear(self) -> None:
        self.arm("pass")

    @property
    def armed(self) -> Fault:
        with self._lock:
            return self._fault

    def _take(self) -> Fault:
        with self._lock:
            fault = self._fault
            if fault.mode != "pass" and fault.times > 0:
                left = fault.times - 1
                self._fault = replace(fault, times=left) if left else Fault()
            self.connections += 1
            return fault

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await serve(self._take(), reader, writer, self.upstream, self.listener, self.hold_s)
        finally:
            self._tasks.discard(task)

    def _call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)
