"""NUL (U+0000) in every text input, over real HTTP against a phase-1 API: a 422 problem that
names the field, and nothing changes. PostgreSQL text cannot hold NUL; before the fix each of
these reached the database and answered 500.

The API runs on its own database, so "nothing changed" is every row of every table, not a
sample. Headers are refused by the HTTP parser itself (400, the connection closed) before the
app: that is asserted too, on a raw socket, since HTTP clients refuse to send them.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from fintech_core.stack.lab import Lab
from tests.conftest import dedicated_api
from tests.helpers import new_key, transfer_body

pytestmark = pytest.mark.e2e

NUL = "a\u0000b"
TABLES = ("accounts", "transfers", "idempotency_keys", "transfer_events", "holds",
          "ledger_accounts", "journal_entries", "postings")


@pytest.fixture(scope="module")
def p1(lab: Lab) -> Iterator[tuple[str, str]]:
    for server, url in dedicated_api(lab, "fincore_test_nul", phase=1):
        yield server.url(), url


@pytest.fixture(scope="module")
def ids(p1: tuple[str, str]) -> dict[str, str]:
    """Two funded accounts and a completed transfer (something a reversal could act on)."""
    api, _ = p1
    a, b = (httpx.post(f"{api}/accounts", json={"owner": o, "currency": "EUR"}).json()["id"]
            for o in ("alice", "bob"))
    for account in (a, b):
        r = httpx.post(f"{api}/accounts/{account}/deposits", json={"amount": 1000,
                       "currency": "EUR"}, headers={"Idempotency-Key": new_key()})
        assert r.status_code == 201, r.text
    t = httpx.post(f"{api}/transfers", json=transfer_body(a, b, 100),
                   headers={"Idempotency-Key": new_key()})
    assert t.status_code == 201, t.text
    return {"a": a, "b": b, "t": t.json()["id"]}


def everything(database_url: str) -> list[Any]:
    with psycopg.connect(database_url) as conn:
        return [conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                for t in TABLES]


BODIES: list[tuple[str, dict[str, Any], str]] = [
    ("/accounts", {"owner": NUL, "currency": "EUR"}, "owner"),
    ("/accounts", {"owner": "\u0000", "currency": "EUR", "credit_limit": 10}, "owner"),
    ("/accounts/{a}/deposits", {"amount": 10, "currency": "EUR", "reference": NUL}, "reference"),
    ("/accounts/{a}/withdrawals", {"amount": 10, "currency": "EUR", "reference": NUL},
     "reference"),
    ("/transfers", {"source_account_id": "{a}", "destination_account_id": "{b}", "amount": 10,
                    "currency": "EUR", "reference": NUL}, "reference"),
    ("/holds", {"source_account_id": "{a}", "destination_account_id": "{b}", "amount": 10,
                "currency": "EUR", "reference": "trailing\u0000"}, "reference"),
    ("/transfers/{t}/reversal", {"reference": NUL}, "reference"),
]


@pytest.mark.parametrize(("path", "body", "field"), BODIES,
                         ids=[f"{p} {f}" for p, _, f in BODIES])
def test_nul_in_a_body_field_is_a_422_naming_it(
        p1: tuple[str, str], ids: dict[str, str], path: str, body: dict[str, Any],
        field: str) -> None:
    api, database = p1
    before = everything(database)
    body = {k: v.format(**ids) if isinstance(v, str) and "{" in v else v
            for k, v in body.items()}
    r = httpx.post(f"{api}{path.format(**ids)}", json=body,
                   headers={"Idempotency-Key": new_key()})
    assert_names(r, ["body", field])
    assert everything(database) == before


QUERIES = [("/accounts", "owner"), ("/accounts/{a}/entries", "cursor"),
           ("/accounts/{a}/balance", "as_of"), ("/accounts", "cursor")]


@pytest.mark.parametrize(("path", "param"), QUERIES, ids=[f"{p} {q}" for p, q in QUERIES])
def test_nul_in_a_query_parameter_is_a_422_naming_it(
        p1: tuple[str, str], ids: dict[str, str], path: str, param: str) -> None:
    api, database = p1
    before = everything(database)
    r = httpx.get(f"{api}{path.format(**ids)}?{param}=%00")  # percent-encoded: the parser lets
    assert_names(r, ["query", param])                      # it through to the app
    assert everything(database) == before


def assert_names(r: httpx.Response, loc: list[str]) -> None:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["code"] == "validation-error"
    assert [e["loc"] for e in problem["errors"]] == [loc], problem


@pytest.mark.parametrize("header", ["Idempotency-Key", "X-Client-Id"])
def test_nul_in_a_header_is_refused_before_the_app(
        p1: tuple[str, str], ids: dict[str, str], header: str) -> None:
    api, database = p1
    before = everything(database)
    host, port = api.removeprefix("http://").split(":")
    payload = httpx.Request("POST", api, json={"amount": 10, "currency": "EUR"}).content
    raw = (f"POST /accounts/{ids['a']}/deposits HTTP/1.1\r\nHost: {host}\r\n"
           f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
           ).encode()
    if header != "Idempotency-Key":
        raw += f"Idempotency-Key: {new_key()}\r\n".encode()
    raw += header.encode() + b": k\x00ey\r\n\r\n" + payload
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(raw)
        answer = b""
        while chunk := s.recv(65536):  # the server closes after answering
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b"connection: close" in answer.lower()
    assert everything(database) == before
