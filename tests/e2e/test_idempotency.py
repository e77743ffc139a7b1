"""Idempotency-Key semantics over real HTTP against a real PostgreSQL (IETF draft + brief §3)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
import pytest

from tests.helpers import balance, new_key, open_account, snapshot, transfer_body

pytestmark = pytest.mark.e2e


def test_missing_key_is_400_and_changes_nothing(api0: str, sql: psycopg.Connection) -> None:
    a, b = open_account(api0, funded=1000), open_account(api0)
    before = snapshot(sql)
    r = httpx.post(f"{api0}/transfers", json=transfer_body(a, b, 100))
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "idempotency-key-missing"
    assert snapshot(sql) == before


@pytest.mark.parametrize("bad_key", ["", "has space", "x" * 256, "clé-été", "a,b"])
def test_malformed_key_is_400_and_changes_nothing(api0: str, sql: psycopg.Connection,
                                                   bad_key: str) -> None:
    a, b = open_account(api0, funded=1000), open_account(api0)
    before = snapshot(sql)
    r = httpx.post(f"{api0}/transfers", json=transfer_body(a, b, 100),
                   headers={"Idempotency-Key": bad_key.encode("utf-8")})  # type: ignore[dict-item]
    assert r.status_code == 400, r.text
    assert r.json()["code"] in ("idempotency-key-missing", "idempotency-key-malformed")
    assert snapshot(sql) == before


def test_retry_with_same_key_replays_first_response_and_moves_money_once(
        api0: str, sql: psycopg.Connection) -> None:
    a, b = open_account(api0, funded=1000), open_account(api0)
    key = new_key()
    first = httpx.post(f"{api0}/transfers", json=transfer_body(a, b, 300),
                       headers={"Idempotency-Key": key})
    second = httpx.post(f"{api0}/transfers", json=transfer_body(a, b, 300),
                        headers={"Idempotency-Key": f'"{key}"'})  # sf-string form, same key
    assert first.status_code == second.status_code == 201
    assert second.content == first.content  # byte-identical replay
    assert "idempotent-replayed" not in first.headers
    assert second.headers["idempotent-replayed"] == "true"
    assert second.headers["location"] == f"/transfers/{first.json()['id']}"
    assert (balance(sql, a), balance(sql, b)) == (700, 300)
    count = sql.execute("SELECT count(*) FROM transfers WHERE source_id = %s", (a,)).fetchone()
    assert count == (1,)


def test_same_key_different_request_is_422_and_changes_nothing(
        api0: str, sql: psycopg.Connection) -> None:
    a, b = open_account(api0, funded=1000), open_account(api0)
    key = new_key()
    assert httpx.post(f"{api0}/transfers", json=transfer_body(a, b, 300),
                      headers={"Idempotency-Key": key}).status_code == 201
    before = snapshot(sql)
    other_amount = httpx.post(f"{api0}/transfers", json=transfer_body(a, b, 301),
                              headers={"Idempotency-Key": key})
    assert other_amount.status_code == 422
    assert other_amount.json()["code"] == "idempotency-key-reused"
    assert snapshot(sql) == before


def test_keys_are_scoped_to_the_caller(api0: str, sql: psycopg.Connection) -> None:
    a, b = open_account(api0, funded=1000), open_account(api0)
    key = new_key()
    for client in ("shop-1", "shop-2"):
        r = httpx.post(f"{api0}/transfers", json=transfer_body(a, b, 100),
                       headers={"Idempotency-Key": key, "X-Client-Id": client})
        assert r.status_code == 201, r.text
        assert "idempotent-replayed" not in r.headers
    assert balance(sql, a) == 800


def test_recorded_rejection_is_replayed_even_after_funds_arrive(
        api0: str, sql: psycopg.Connection) -> None:
    """A key settles to one outcome: the FAILED attempt stays failed for that key."""
    a, b = open_account(api0, funded=100), open_account(api0)
    key = new_key()
    first = httpx.post(f"{api0}/transfers", json=transfer_body(a, b, 500),
                       headers={"Idempotency-Key": key})
    assert first.status_code == 422 and first.json()["code"] == "insufficient-funds"
    failed_id = first.json()["transfer_id"]
    httpx.post(f"{api0}/accounts/{a}/deposits", json={"amount": 1000, "currency": "EUR"},
               headers={"Idempotency-Key": new_key()}).raise_for_status()
    again = httpx.post(f"{api0}/transfers", json=transfer_body(a, b, 500),
                       headers={"Idempotency-Key": key})
    assert again.status_code == 422 and again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    assert httpx.get(f"{api0}/transfers/{failed_id}").json()["status"] == "FAILED"
    assert balance(sql, a) == 1100


def test_idempotency_storm_moves_money_exactly_once(api0: str, sql: psycopg.Connection) -> None:
    """20 concurrent requests with one key: one transfer; replies are 201 or 409; no 5xx."""
    a, b = open_account(api0, funded=1000), open_account(api0)
    key = new_key()

    def send(_: int) -> httpx.Response:
        with httpx.Client(timeout=30) as client:
            return client.post(f"{api0}/transfers", json=transfer_body(a, b, 250),
                               headers={"Idempotency-Key": key})

    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(pool.map(send, range(20)))
    statuses = sorted(r.status_code for r in replies)
    assert set(statuses) <= {201, 409}, statuses
    fresh = [r for r in replies if r.status_code == 201 and "idempotent-replayed" not in r.headers]
    assert len(fresh) == 1
    ids = {r.json()["id"] for r in replies if r.status_code == 201}
    assert ids == {fresh[0].json()["id"]}
    for r in replies:
        if r.status_code == 409:
            assert r.json()["code"] == "idempotency-key-in-flight"
    assert (balance(sql, a), balance(sql, b)) == (750, 250)
    rows = sql.execute("SELECT count(*) FROM transfers WHERE source_id = %s", (a,)).fetchone()
    assert rows == (1,)


def test_deposit_requires_a_key_and_is_idempotent(api0: str, sql: psycopg.Connection) -> None:
    a = open_account(api0)
    body = {"amount": 500, "currency": "EUR"}
    assert httpx.post(f"{api0}/accounts/{a}/deposits", json=body).status_code == 400
    key = new_key()
    for _ in range(3):
        r = httpx.post(f"{api0}/accounts/{a}/deposits", json=body, headers={"Idempotency-Key": key})
        assert r.status_code == 201
    assert balance(sql, a) == 500


def test_reaper_deletes_only_keys_past_retention(api0: str, sql: psycopg.Connection) -> None:
    import asyncio

    from fintech_core.bootstrap import bootstrap
    from fintech_core.settings import Settings
    from phases import composition

    a, b = open_account(api0, funded=100), open_account(api0)
    old, fresh = new_key(), new_key()
    for key in (old, fresh):
        httpx.post(f"{api0}/transfers", json=transfer_body(a, b, 10),
                   headers={"Idempotency-Key": key}).raise_for_status()
    sql.execute("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'"
                " WHERE key = %s", (old,))
    server = sql.info.dsn  # the same database the API uses
    settings = Settings(database_url=f"postgresql://{sql.info.user}@{sql.info.host}:"
                                     f"{sql.info.port}/postgres",
                        database_prefix=sql.info.dbname.rsplit("_p", 1)[0], phase=0,
                        idempotency_retention_hours=24)
    assert server
    container = bootstrap(settings, composition(0))

    async def reap() -> int:
        await container.open()
        try:
            return await container.reap_keys()
        finally:
            await container.close()

    assert asyncio.run(reap()) >= 1
    keys = {r[0] for r in sql.execute("SELECT key FROM idempotency_keys WHERE key IN (%s, %s)",
                                      (old, fresh)).fetchall()}
    assert keys == {fresh}
    # The expired key is free again: the same request now runs as a new transfer.
    again = httpx.post(f"{api0}/transfers", json=transfer_body(a, b, 10),
                       headers={"Idempotency-Key": old})
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers


def test_key_is_checked_before_the_body_rules(api0: str, sql: psycopg.Connection) -> None:
    """Without a usable key nothing else matters: 400 even when the body is also wrong."""
    a = open_account(api0, funded=100)
    before = snapshot(sql)
    for body in (transfer_body(a, a, 10), {**transfer_body(a, a, 10), "currency": "XYZ"}):
        r = httpx.post(f"{api0}/transfers", json=body, headers={"Idempotency-Key": "bad key"})
        assert r.status_code == 400 and r.json()["code"] == "idempotency-key-malformed", r.text
    assert snapshot(sql) == before


def test_timestamps_agree_between_replay_and_read(api0: str, sql: psycopg.Connection) -> None:
    sql.execute("SET TimeZone = 'Asia/Kolkata'")  # a reader's session zone changes nothing
    a, b = open_account(api0, funded=100), open_account(api0)
    created = httpx.post(f"{api0}/transfers", json=transfer_body(a, b, 10),
                         headers={"Idempotency-Key": new_key()}).json()
    assert created["created_at"].endswith("Z")
    assert httpx.get(f"{api0}/transfers/{created['id']}").json()["created_at"] == created["created_at"]
