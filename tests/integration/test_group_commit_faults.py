"""Group commit (FINCORE_GROUP_COMMIT on) under the reliability bar's idempotency storm and a
backend terminated mid-batch (brief §7), phase 1, over HTTP in process on the real PostgreSQL.

Phase 1 so that the ledger's own verify judges the money, beside the balances. The API process
kills (SIGKILL, crash points before and after COMMIT) are in tests/chaos/test_group_commit_chaos.py.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
import pytest

from fintech_core.api.app import build_app
from fintech_core.bootstrap import bootstrap
from fintech_core.container import Container
from fintech_core.faults import ArmedFault
from fintech_core.stack.lab import Lab
from phases import composition
from tests.conftest import TEST_DB_PREFIX, phase_database

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

PHASE = 1


@pytest.fixture
async def service(lab: Lab) -> AsyncIterator[Container]:
    phase_database(lab, PHASE)
    settings = lab.settings.model_copy(update={
        "phase": PHASE, "database_url": lab.database_url(), "database_prefix": TEST_DB_PREFIX,
        "db_pool_min": 1, "db_pool_max": 8, "group_commit": True, "drill_mode": True})
    container = bootstrap(settings, composition(PHASE))
    await container.open()
    try:
        yield container
    finally:
        await container.close()


@pytest.fixture
async def http(service: Container) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=60) as client:
        yield client


async def open_accounts(http: httpx.AsyncClient, n: int, funded: int) -> list[str]:
    ids = []
    for i in range(n):
        r = await http.post("/accounts", json={"owner": f"gcf{i}", "currency": "EUR"})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
        d = await http.post(f"/accounts/{ids[-1]}/deposits", json={"amount": funded,
                            "currency": "EUR"}, headers={"Idempotency-Key": uuid.uuid4().hex})
        assert d.status_code == 201, d.text
    return ids


def move(src: str, dst: str, amount: int) -> dict[str, Any]:
    return {"source_account_id": src, "destination_account_id": dst, "amount": amount,
            "currency": "EUR"}


def money(c: Container, ids: list[str]) -> tuple[int, int]:
    """(sum of the balances, transfers between these accounts), read in one snapshot each."""
    with psycopg.connect(c.database_url, autocommit=True) as conn:
        total = conn.execute("SELECT sum(balance) FROM accounts WHERE id = ANY(%s::uuid[])",
                             (ids,)).fetchone()
        moved = conn.execute("SELECT count(*) FROM transfers WHERE source_id = ANY(%s::uuid[])",
                             (ids,)).fetchone()
    assert total is not None and moved is not None
    return int(total[0]), int(moved[0])


async def verify_ledger(http: httpx.AsyncClient) -> None:
    r = await http.get("/ledger/verify")
    assert r.status_code == 200, r.text
    assert not r.json()["drift"], r.json()


async def test_idempotency_storm_in_batches_moves_money_once_and_never_answers_5xx(
        service: Container, http: httpx.AsyncClient) -> None:
    """50 concurrent POSTs of one key, mixed with 30 other keys, three rounds: exactly one
    transfer for the storm key; its replies are the first 201, byte-identical replays, or 409."""
    c = service
    assert c.group_commit is not None
    src, dst, other = await open_accounts(http, 3, 100_000)
    for _ in range(3):
        key, batches, batched = uuid.uuid4().hex, c.group_commit.batches, c.group_commit.transfers
        storm = [http.post("/transfers", json=move(src, dst, 700), headers={"Idempotency-Key": key})
                 for _ in range(50)]
        others = [http.post("/transfers", json=move(dst, other, 1 + i),
                            headers={"Idempotency-Key": uuid.uuid4().hex}) for i in range(30)]
        mixed = [*storm[:20], *[x for pair in zip(others, storm[20:], strict=True) for x in pair]]
        replies = await asyncio.gather(*mixed)
        assert all(r.status_code < 500 for r in replies), [r.text for r in replies
                                                           if r.status_code >= 500]
        storm_replies = [*replies[:20], *replies[21::2]]
        assert all(r.status_code == 201 for r in replies[20::2]), "every other key moved once"
        first = [r for r in storm_replies
                 if r.status_code == 201 and "idempotent-replayed" not in r.headers]
        assert len(first) == 1, [(r.status_code, dict(r.headers)) for r in storm_replies]
        for r in storm_replies:
            assert r.status_code in (201, 409), r.text
            if r.status_code == 201 and r is not first[0]:
                assert r.headers["idempotent-replayed"] == "true"
                assert r.content == first[0].content
            if r.status_code == 409:
                assert r.json()["code"] == "idempotency-key-in-flight"
        # The storm did run in batches (several transfers per transaction), not one by one.
        assert c.group_commit.transfers - batched > c.group_commit.batches - batches
    with psycopg.connect(c.database_url, autocommit=True) as conn:
        stormed = conn.execute("SELECT count(*) FROM transfers WHERE source_id = %s",
                               (src,)).fetchone()
    assert stormed == (3,), "one transfer per storm key"
    assert money(c, [src, dst, other])[0] == 300_000
    await verify_ledger(http)


async def settle(http: httpx.AsyncClient, body: dict[str, Any], key: str,
                 seen: list[int]) -> httpx.Response:
    """A client that retries its key until the answer is final (not 5xx, not 409)."""
    deadline = time.monotonic() + 60
    while True:
        r = await http.post("/transfers", json=body, headers={"Idempotency-Key": key})
        seen.append(r.status_code)
        if r.status_code < 500 and r.status_code != 409:
            return r
        assert time.monotonic() < deadline, f"key {key} never settled: {seen}"
        await asyncio.sleep(0.05)


def batch_backends(c: Container) -> list[int]:
    """The API's backends inside an open transaction that has taken a lock: a batch held by
    the armed delay, between its lock statement and COMMIT."""
    with psycopg.connect(c.database_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND state = 'idle in transaction'"
            " AND query ILIKE '%%FOR UPDATE%%'").fetchall()
    return [r[0] for r in rows]


async def test_a_backend_terminated_mid_batch_settles_every_key_once(
        service: Container, http: httpx.AsyncClient) -> None:
    """Batches are held open before COMMIT (a drill delay) and their backends terminated; the
    clients retry their keys: every key ends with one transfer, money is conserved, no 500."""
    c = service
    assert c.group_commit is not None
    ids = await open_accounts(http, 4, 10_000)
    before = money(c, ids)
    c.faults.arm("transfer.before_commit", ArmedFault("delay", delay_ms=600, times=4))
    seen: list[int] = []
    bodies = [(move(ids[i % 4], ids[(i + 1) % 4], 10 + i), uuid.uuid4().hex) for i in range(40)]
    clients = [asyncio.create_task(settle(http, b, k, seen)) for b, k in bodies]
    terminated, multi = 0, False
    for _ in range(4):  # each armed delay holds one batch open; terminate it while it waits
        for _ in range(200):
            await asyncio.sleep(0.02)
            pids = batch_backends(c)
            if pids:
                break
        multi = multi or c.group_commit.transfers > c.group_commit.batches
        with psycopg.connect(c.database_url, autocommit=True) as conn:
            for pid in pids:
                terminated += bool(conn.execute("SELECT pg_terminate_backend(%s)",
                                                (pid,)).fetchone()[0])  # type: ignore[index]
        await asyncio.sleep(0.7)
    replies = await asyncio.gather(*clients)
    c.faults.clear()
    assert terminated >= 2 and multi, (terminated, c.group_commit.batches)
    assert 500 not in seen, seen  # 503 (database unavailable) is allowed: the client retries
    assert all(r.status_code == 201 for r in replies), [r.text for r in replies]
    assert len({r.json()["id"] for r in replies}) == 40
    total, moved = money(c, ids)
    assert (total, moved) == (before[0], before[1] + 40), "each key moved once, money conserved"
    await verify_ledger(http)
