"""Transfers, accounts and errors over real HTTP: concurrency, invariants, problem+json."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
import pytest

from tests.helpers import balance, new_key, open_account, snapshot, transfer_body

pytestmark = pytest.mark.e2e


def post_transfer(api: str, body: dict[str, object], key: str | None = None) -> httpx.Response:
    with httpx.Client(timeout=30) as client:
        return client.post(f"{api}/transfers", json=body,
                           headers={"Idempotency-Key": key or new_key()})


def test_fifty_concurrent_transfers_never_overdraw(api0: str, sql: psycopg.Connection) -> None:
    source = open_account(api0, funded=1000)
    sinks = [open_account(api0, owner=f"sink{i}") for i in range(5)]

    def send(i: int) -> httpx.Response:
        return post_transfer(api0, transfer_body(source, sinks[i % 5], 100))

    with ThreadPoolExecutor(max_workers=50) as pool:
        replies = list(pool.map(send, range(50)))
    codes = [r.status_code for r in replies]
    assert codes.count(201) == 10, codes
    assert codes.count(422) == 40
    assert all(r.json()["code"] == "insufficient-funds" for r in replies if r.status_code == 422)
    assert balance(sql, source) == 0
    assert sum(balance(sql, s) for s in sinks) == 1000  # money conserved
    statuses = sql.execute("SELECT status, count(*) FROM transfers WHERE source_id = %s"
                           " GROUP BY status ORDER BY status", (source,)).fetchall()
    assert statuses == [("COMPLETED", 10), ("FAILED", 40)]


def test_transfers_in_both_directions_do_not_deadlock(api0: str, sql: psycopg.Connection) -> None:
    a, b = open_account(api0, funded=10_000), open_account(api0, funded=10_000)

    def send(i: int) -> httpx.Response:
        src, dst = (a, b) if i % 2 else (b, a)
        return post_transfer(api0, transfer_body(src, dst, 7))

    with ThreadPoolExecutor(max_workers=16) as pool:
        replies = list(pool.map(send, range(200)))
    assert {r.status_code for r in replies} == {201}
    assert balance(sql, a) + balance(sql, b) == 20_000
    assert balance(sql, a) == balance(sql, b) == 10_000  # 100 each way


def test_get_transfer_answers_did_the_money_move(api0: str) -> None:
    a, b = open_account(api0, funded=500), open_account(api0)
    created = post_transfer(api0, transfer_body(a, b, 120)).json()
    got = httpx.get(f"{api0}/transfers/{created['id']}")
    assert got.status_code == 200
    assert got.json() == created
    assert got.json()["status"] == "COMPLETED"
    missing = httpx.get(f"{api0}/transfers/01a1ffa6-0000-7000-8000-000000000000")
    assert missing.status_code == 404 and missing.json()["code"] == "transfer-not-found"


@pytest.mark.parametrize(("mutate", "status", "code"), [
    (lambda b, x: {**b, "destination_account_id": b["source_account_id"]}, 422, "same-account"),
    (lambda b, x: {**b, "destination_account_id": "01a1ffa6-0000-7000-8000-000000000001"},
     404, "account-not-found"),
    (lambda b, x: {**b, "currency": "USD"}, 422, "currency-mismatch"),
    (lambda b, x: {**b, "currency": "XYZ"}, 422, "unknown-currency"),
    (lambda b, x: {**b, "amount": 10.5}, 422, "validation-error"),
    (lambda b, x: {**b, "amount": "100"}, 422, "validation-error"),
    (lambda b, x: {**b, "amount": 0}, 422, "validation-error"),
    (lambda b, x: {**b, "amount": -5}, 422, "validation-error"),
    (lambda b, x: {**b, "amount": 2**63}, 422, "validation-error"),
    (lambda b, x: {**b, "balance": 10**9}, 422, "validation-error"),
    (lambda b, x: {k: v for k, v in b.items() if k != "amount"}, 422, "validation-error"),
])
def test_bad_transfer_requests_are_problems_and_change_nothing(
        api0: str, sql: psycopg.Connection, mutate, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    a, b = open_account(api0, funded=1000), open_account(api0)
    before = snapshot(sql)
    r = post_transfer(api0, mutate(transfer_body(a, b, 100), None))
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["code"] == code and problem["type"] == f"/problems/{code}"
    assert problem["status"] == status and problem["title"]
    assert snapshot(sql) == before


def test_malformed_json_is_400(api0: str, sql: psycopg.Connection) -> None:
    before = snapshot(sql)
    r = httpx.post(f"{api0}/transfers", content=b'{"amount": ', headers={
        "Idempotency-Key": new_key(), "content-type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "malformed-json"
    assert snapshot(sql) == before


def test_frozen_and_closed_accounts_refuse_money(api0: str, sql: psycopg.Connection) -> None:
    a, b = open_account(api0, funded=1000), open_account(api0)
    assert httpx.post(f"{api0}/accounts/{b}/freeze").json()["status"] == "FROZEN"
    frozen = post_transfer(api0, transfer_body(a, b, 100))
    assert frozen.status_code == 409 and frozen.json()["code"] == "account-frozen"
    failed = httpx.get(f"{api0}/transfers/{frozen.json()['transfer_id']}").json()
    assert failed["status"] == "FAILED"
    assert httpx.post(f"{api0}/accounts/{b}/unfreeze").json()["status"] == "ACTIVE"
    assert post_transfer(api0, transfer_body(a, b, 100)).status_code == 201
    not_empty = httpx.post(f"{api0}/accounts/{b}/close")
    assert not_empty.status_code == 409 and not_empty.json()["code"] == "account-not-empty"
    assert post_transfer(api0, transfer_body(b, a, 100)).status_code == 201
    assert httpx.post(f"{api0}/accounts/{b}/close").json()["status"] == "CLOSED"
    assert httpx.post(f"{api0}/accounts/{b}/close").status_code == 200  # retry-safe
    closed = post_transfer(api0, transfer_body(a, b, 1))
    assert closed.status_code == 409 and closed.json()["code"] == "account-closed"
    assert httpx.post(f"{api0}/accounts/{b}/freeze").status_code == 409
    assert (balance(sql, a), balance(sql, b)) == (1000, 0)


def test_account_listing_pages_with_a_cursor(api0: str) -> None:
    owner = f"pager-{new_key()[:8]}"
    made = [open_account(api0, owner=owner) for _ in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"owner": owner, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = httpx.get(f"{api0}/accounts", params=params).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == made  # creation order, nothing skipped or repeated
    assert httpx.get(f"{api0}/accounts", params={"limit": 201}).status_code == 422
    bad = httpx.get(f"{api0}/accounts", params={"cursor": "!!"})
    assert bad.status_code == 422 and bad.json()["code"] == "validation-error"


def test_account_validation(api0: str) -> None:
    for body in ({"owner": "", "currency": "EUR"}, {"owner": "x", "currency": "eur"},
                 {"owner": "x", "currency": "EUR", "balance": 100},
                 {"owner": "x", "currency": "EUR", "status": "ACTIVE"}):
        r = httpx.post(f"{api0}/accounts", json=body)
        assert r.status_code == 422, body
    r = httpx.post(f"{api0}/accounts", json={"owner": "x", "currency": "ZZZ"})
    assert r.status_code == 422 and r.json()["code"] == "unknown-currency"
    assert httpx.get(f"{api0}/accounts/not-a-uuid").status_code == 422
    nf = httpx.get(f"{api0}/accounts/01a1ffa6-0000-7000-8000-000000000002")
    assert nf.status_code == 404 and nf.json()["code"] == "account-not-found"


def test_every_problem_type_is_documented(api0: str) -> None:
    r = httpx.get(f"{api0}/problems/insufficient-funds")
    assert r.status_code == 200 and r.json()["status"] == 422
    assert httpx.get(f"{api0}/problems/nope").status_code == 404
    spec = httpx.get(f"{api0}/openapi.json").json()
    post = spec["paths"]["/transfers"]["post"]
    assert {"400", "404", "409", "422"} <= set(post["responses"])
    header = [p for p in post["parameters"] if p["name"] == "Idempotency-Key"]
    assert header and header[0]["required"] is True


def test_health_reports_phase_features(api0: str) -> None:
    health = httpx.get(f"{api0}/health").json()
    assert health["phase"] == 0
    assert {"idempotency-key", "row-locks", "balance-column"} <= set(health["features"])
    assert "ledger" not in health["features"]
    assert httpx.get(f"{api0}/ready").status_code == 200
