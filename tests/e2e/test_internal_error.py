"""A 500 over real HTTP: the problem tells the client what to do, and the connection survives.

The fault point `transfer.before_commit` (drill mode) raises inside the request, so the API
answers the `internal-error` problem with nothing committed. The client then reuses the *same*
keep-alive connection, as every pooling HTTP client does: that request must be served (before
the fix the server dropped the connection without `Connection: close`, so it failed with a
reset), and the retry with the same Idempotency-Key must move the money exactly once.
"""

from __future__ import annotations

import socket

import httpx
import pytest

from tests.helpers import new_key, open_account, transfer_body

pytestmark = pytest.mark.e2e


def arm_error(api: str) -> None:
    r = httpx.post(f"{api}/_drill/faults", json={"point": "transfer.before_commit",
                                                 "action": "error"})
    assert r.status_code == 204, r.text


def test_a_500_says_what_to_do_and_carries_a_correlation_id(api0: str) -> None:
    a, b = open_account(api0, funded=500), open_account(api0)
    arm_error(api0)
    key = new_key()
    r = httpx.post(f"{api0}/transfers", json=transfer_body(a, b, 100),
                   headers={"Idempotency-Key": key})
    assert r.status_code == 500 and r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "internal-error" and body["instance"] == "/transfers"
    correlation = body["correlation_id"]
    assert len(correlation) >= 16
    assert correlation in body["detail"] and "same Idempotency-Key" in body["detail"]
    again = httpx.post(f"{api0}/transfers", json=transfer_body(a, b, 100),
                       headers={"Idempotency-Key": key})
    assert again.status_code == 201, again.text


def local_port(r: httpx.Response) -> int:
    """Which connection served `r`: its client-side port."""
    return int(r.extensions["network_stream"].get_extra_info("socket").getsockname()[1])


def test_the_keep_alive_connection_stays_usable_after_a_500(api0: str) -> None:
    a, b = open_account(api0, funded=500), open_account(api0)
    key = new_key()
    with httpx.Client(base_url=api0, timeout=10,
                      limits=httpx.Limits(max_connections=1)) as client:
        opened = client.get("/health")  # opens the one pooled connection
        arm_error(api0)  # on another connection: the pooled one stays idle
        r = client.post("/transfers", json=transfer_body(a, b, 100),
                        headers={"Idempotency-Key": key})
        assert r.status_code == 500, r.text
        assert r.headers.get("connection", "").lower() != "close"
        retry = client.post("/transfers", json=transfer_body(a, b, 100),
                            headers={"Idempotency-Key": key})
        assert retry.status_code == 201, retry.text
        moved = client.get(f"/accounts/{a}").json()["balance"]
        # httpx quietly reconnects when it sees the pooled socket closed, which hid the bug;
        # the same client port proves the server kept the connection open through the 500.
        assert local_port(opened) == local_port(r) == local_port(retry)
    assert moved == 400, "the 500 was rolled back and the retry moved the money once"


def test_a_raw_keep_alive_socket_reads_two_answers_after_a_500(api0: str) -> None:
    """The same on the wire, without any client library's reconnect logic in the way."""
    a, b = open_account(api0, funded=500), open_account(api0)
    arm_error(api0)
    host, port = api0.removeprefix("http://").split(":")
    payload = httpx.Request("POST", "http://x/", json=transfer_body(a, b, 100)).content
    request = (f"POST /transfers HTTP/1.1\r\nHost: {host}\r\nIdempotency-Key: {new_key()}\r\n"
               f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
               ).encode() + payload
    health = f"GET /health HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(request)
        first = _read_response(s)
        s.sendall(health)
        second = _read_response(s)
    assert first.startswith(b"HTTP/1.1 500"), first[:200]
    assert second.startswith(b"HTTP/1.1 200"), second[:200]


def _read_response(s: socket.socket) -> bytes:
    """One HTTP/1.1 response with a Content-Length body; b"" if the peer closed or reset."""
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        while len(rest) < length:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
        return head + b"\r\n\r\n" + rest
    except ConnectionResetError:
        return data
