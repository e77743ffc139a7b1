"""Bad input over real HTTP: each request gets a clear 4xx problem+json and changes nothing.

"Changes nothing" is checked on the database itself (accounts, transfers, idempotency keys
snapshotted before and after), not on the response alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from tests.helpers import new_key, open_account, snapshot, transfer_body

pytestmark = pytest.mark.e2e

KIB = 1024


@pytest.fixture
def pair(api0: str) -> tuple[str, str]:
    return open_account(api0, funded=1000), open_account(api0)


@pytest.fixture
def unchanged(sql: psycopg.Connection) -> Iterator[None]:
    before = snapshot(sql)
    yield
    assert snapshot(sql) == before, "a refused request changed the database"


def problem(r: httpx.Response, status: int, *codes: str) -> dict[str, Any]:
    assert r.status_code == status, r.text[:300]
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["type"] == f"/problems/{body['code']}"
    if codes:
        assert body["code"] in codes, body
    return body


def post(api: str, path: str, *, key: str | None = "new", **kw: Any) -> httpx.Response:
    headers = dict(kw.pop("headers", {}))
    if key is not None:
        headers.setdefault("Idempotency-Key", new_key() if key == "new" else key)
    with httpx.Client(timeout=30) as client:
        return client.post(f"{api}{path}", headers=headers, **kw)


# --- size -----------------------------------------------------------------------------------


def test_oversized_body_is_413(api0: str, pair: tuple[str, str], unchanged: None) -> None:
    body = {**transfer_body(*pair, 100), "reference": "x" * (65 * KIB)}
    problem(post(api0, "/transfers", json=body), 413, "payload-too-large")


def test_oversized_chunked_body_is_413_without_content_length(
        api0: str, pair: tuple[str, str], unchanged: None) -> None:
    payload = json.dumps({**transfer_body(*pair, 100), "reference": "x" * (80 * KIB)}).encode()

    def chunks() -> Iterator[bytes]:  # a generator: httpx sends it chunked, length unknown
        for i in range(0, len(payload), 8 * KIB):
            yield payload[i:i + 8 * KIB]

    r = post(api0, "/transfers", content=chunks(), headers={"content-type": "application/json"})
    problem(r, 413, "payload-too-large")


def test_body_just_under_the_cap_is_judged_on_its_content(
        api0: str, pair: tuple[str, str], unchanged: None) -> None:
    body = {**transfer_body(*pair, 100), "reference": "x" * (60 * KIB)}
    problem(post(api0, "/transfers", json=body), 422, "validation-error")  # reference > 140


def test_oversized_headers_are_refused(api0: str, pair: tuple[str, str], unchanged: None) -> None:
    body = transfer_body(*pair, 100)
    problem(post(api0, "/transfers", json=body, key="k" * (8 * KIB)), 400,
            "idempotency-key-malformed")
    problem(post(api0, "/transfers", json=body, headers={"X-Client-Id": "c" * (8 * KIB)}), 422,
            "validation-error")
    for padding in (17 * KIB, 256 * KIB):  # any header: the cap is on all of them together
        r = post(api0, "/transfers", json=body, headers={"X-Padding": "p" * padding})
        problem(r, 431, "headers-too-large")


def test_deeply_nested_json_is_refused(api0: str, pair: tuple[str, str], unchanged: None) -> None:
    depth = 20_000  # 40 KiB: under the size cap, far past any JSON parser's recursion limit
    nested = b'{"source_account_id": ' + b"[" * depth + b"]" * depth + b"}"
    r = post(api0, "/transfers", content=nested, headers={"content-type": "application/json"})
    problem(r, r.status_code, "malformed-json", "validation-error")
    assert r.status_code in (400, 422)
    shallow = {**transfer_body(*pair, 100), "reference": {"a": {"b": {"c": [1, [2, [3]]]}}}}
    problem(post(api0, "/transfers", json=shallow), 422, "validation-error")


@pytest.mark.parametrize("limit", ["201", "1000000", str(10**30), "0", "-1", "ten", "1.5"])
def test_bad_page_sizes_are_422(api0: str, limit: str) -> None:
    problem(httpx.get(f"{api0}/accounts", params={"limit": limit}), 422, "validation-error")


def test_bad_cursor_is_422(api0: str) -> None:
    for cursor in ("x" * 10_000, "not a cursor", "é" * 22):
        problem(httpx.get(f"{api0}/accounts", params={"cursor": cursor}), 422, "validation-error")


# --- amounts and currencies -----------------------------------------------------------------


@pytest.mark.parametrize("amount", [10.5, -5, -0.0, 0, "100", "1e3", True, None, [100], {"v": 1},
                                    2**53, 10**400, 1e308])
def test_non_integer_and_out_of_range_amounts_are_422(
        api0: str, pair: tuple[str, str], unchanged: None, amount: Any) -> None:
    raw = json.dumps({**transfer_body(*pair, 1), "amount": amount})
    r = post(api0, "/transfers", content=raw, headers={"content-type": "application/json"})
    problem(r, 422, "validation-error")


@pytest.mark.parametrize(("currency", "code"), [
    ("XYZ", "unknown-currency"), ("ZZZ", "unknown-currency"), ("eur", "validation-error"),
    ("EURO", "validation-error"), ("€", "validation-error"), ("", "validation-error"),
    (None, "validation-error")])
def test_unknown_and_malformed_currencies_are_422(
        api0: str, pair: tuple[str, str], unchanged: None, currency: Any, code: str) -> None:
    body = {**transfer_body(*pair, 100), "currency": currency}
    problem(post(api0, "/transfers", json=body), 422, code)
    problem(post(api0, "/accounts", json={"owner": "x", "currency": currency}, key=None), 422, code)


# --- idempotency keys -----------------------------------------------------------------------


@pytest.mark.parametrize("key", ["clé", "🔑", "ключ", "a\tb", "k" * 256, "k" * 10_000, '"', '""'])
def test_unicode_and_overlong_keys_are_400(
        api0: str, pair: tuple[str, str], unchanged: None, key: str) -> None:
    body = transfer_body(*pair, 100)
    r = post(api0, "/transfers", json=body, headers={"Idempotency-Key": key.encode()})
    problem(r, 400, "idempotency-key-malformed", "idempotency-key-missing")


# --- mass assignment ------------------------------------------------------------------------


@pytest.mark.parametrize("extra", [{"balance": 10**9}, {"status": "CLOSED"},
                                   {"id": "01a1ffa6-0000-7000-8000-00000000dead"},
                                   {"created_at": "1970-01-01T00:00:00Z"}])
def test_extra_account_fields_are_refused_and_never_persisted(
        api0: str, sql: psycopg.Connection, unchanged: None, extra: dict[str, Any]) -> None:
    r = post(api0, "/accounts", json={"owner": "mallory", "currency": "EUR", **extra}, key=None)
    body = problem(r, 422, "validation-error")
    assert any(e["type"] == "extra_forbidden" for e in body["errors"])
    assert sql.execute("SELECT count(*) FROM accounts WHERE owner = 'mallory'").fetchone() == (0,)


@pytest.mark.parametrize("extra", [{"status": "COMPLETED"}, {"kind": "DEPOSIT"},
                                   {"id": "01a1ffa6-0000-7000-8000-00000000beef"},
                                   {"failure_code": None}, {"source_balance": 10**9}])
def test_extra_transfer_fields_are_refused_and_never_persisted(
        api0: str, pair: tuple[str, str], unchanged: None, extra: dict[str, Any]) -> None:
    problem(post(api0, "/transfers", json={**transfer_body(*pair, 100), **extra}), 422,
            "validation-error")
    deposit = {"amount": 100, "currency": "EUR", **extra}
    problem(post(api0, f"/accounts/{pair[1]}/deposits", json=deposit), 422, "validation-error")


# --- methods --------------------------------------------------------------------------------


def test_wrong_method_is_405_with_every_allowed_method(api0: str, unchanged: None) -> None:
    r = httpx.request("DELETE", f"{api0}/accounts")
    problem(r, 405, "method-not-allowed")
    assert {m.strip() for m in r.headers["allow"].split(",")} >= {"GET", "POST"}
