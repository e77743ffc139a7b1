"""The fault proxy against a real socket server: each mode does to the client, and to the server,
exactly what it claims (the server's own request counter is the witness, not the proxy)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from fintech_core.drills.proxy import FaultProxy

pytestmark = pytest.mark.integration

BODY = json.dumps({"id": "0190-transfer", "status": "COMPLETED", "pad": "x" * 200}).encode()


class Upstream(ThreadingHTTPServer):
    daemon_threads = True
    received = 0


class Handler(BaseHTTPRequestHandler):
    server: Upstream

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.server.received += 1
        self.send_response(201)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(upstream: Upstream) -> Iterator[tuple[FaultProxy, list[str]]]:
    seen: list[str] = []
    with FaultProxy("127.0.0.1", upstream.server_address[1],
                    listener=lambda mode, text: seen.append(mode)) as p:
        yield p, seen


def post(p: FaultProxy, timeout: float = 5) -> httpx.Response:
    with httpx.Client(timeout=timeout) as client:  # a new client: one connection per request
        return client.post(f"{p.url}/transfers", json={"amount": 100})


def test_pass_forwards_both_ways(upstream: Upstream, proxy: tuple[FaultProxy, list[str]]) -> None:
    p, seen = proxy
    r = post(p)
    assert (r.status_code, r.content, upstream.received, seen) == (201, BODY, 1, [])


def test_delay_holds_the_response(upstream: Upstream, proxy: tuple[FaultProxy, list[str]]) -> None:
    p, seen = proxy
    p.arm("delay", delay_ms=400)
    started = time.monotonic()
    assert post(p).content == BODY
    assert time.monotonic() - started >= 0.4
    assert seen == ["delay"]


def test_drop_lets_the_server_act_and_closes_without_response(
        upstream: Upstream, proxy: tuple[FaultProxy, list[str]]) -> None:
    p, seen = proxy
    p.arm("drop")
    with pytest.raises(httpx.RemoteProtocolError, match="without sending"):
        post(p)
    assert upstream.received == 1 and seen == ["drop"]


def test_timeout_keeps_the_client_waiting(upstream: Upstream,
                                          proxy: tuple[FaultProxy, list[str]]) -> None:
    p, _ = proxy
    p.arm("timeout")
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        post(p, timeout=0.5)
    assert time.monotonic() - started >= 0.5
    assert upstream.received == 1  # the server did the work; only the answer was lost


def test_reset_never_reaches_the_server(upstream: Upstream,
                                        proxy: tuple[FaultProxy, list[str]]) -> None:
    p, _ = proxy
    p.arm("reset")
    with socket.create_connection(("127.0.0.1", p.port)) as s:
        s.sendall(b"POST /transfers HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        with pytest.raises(ConnectionResetError):
            s.recv(1024)  # an RST, not a clean EOF (which would return b"")
    assert upstream.received == 0


def test_cut_stops_mid_body(upstream: Upstream, proxy: tuple[FaultProxy, list[str]]) -> None:
    p, _ = proxy
    p.arm("cut", cut_bytes=20)
    with pytest.raises(httpx.RemoteProtocolError, match=r"incomplete|complete message body"):
        post(p)
    p.arm("cut", cut_bytes=20)
    with socket.create_connection(("127.0.0.1", p.port)) as s:  # what the wire really carried
        s.sendall(b"POST /t HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        got = b""
        while chunk := s.recv(4096):
            got += chunk
    head, _, body = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 201") and body == BODY[:20]
    assert upstream.received == 2


def test_times_then_back_to_pass_and_switching_at_runtime(
        upstream: Upstream, proxy: tuple[FaultProxy, list[str]]) -> None:
    p, seen = proxy
    p.arm("drop", times=2)
    for _ in range(2):
        with pytest.raises(httpx.RemoteProtocolError):
            post(p)
    assert post(p).status_code == 201  # the fault is spent: the third request passes
    p.arm("drop", times=-1)
    with pytest.raises(httpx.RemoteProtocolError):
        post(p)
    p.clear()
    assert post(p).status_code == 201
    assert seen == ["drop", "drop", "drop"] and upstream.received == 5


def test_a_dead_upstream_resets_the_client() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]  # bound, never listening: connections are refused
        with FaultProxy("127.0.0.1", dead_port) as p, pytest.raises(httpx.TransportError):
            post(p)
