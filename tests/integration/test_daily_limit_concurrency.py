"""N concurrent transfers against a daily limit that fits K: exactly K succeed, through the real
API (uvicorn processes, real HTTP), with two API processes on one database: one commits each
request on its own, the other in group-commit batches. test_amount_limits.py checks the same
in-process, per mechanism; this is the deployment shape, where no lock in one process can help
and only the source row's lock in PostgreSQL serializes the checks.

To be sure the N requests are in flight together (not merely sent close together), the test
holds the source account's row, as a batch job would, until the requests queue on it, then lets
them go. The verdict is PostgreSQL's: COMPLETED transfers and account_daily_outgoing.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
import pytest

from fintech_core.drills import dbfaults, inject
from fintech_core.drills.timeline import Timeline
from fintech_core.stack.api_server import ApiServer
from fintech_core.stack.client_auth import client_auth_for
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import free_port
from phases import composition
from tests.conftest import phase_database

pytestmark = pytest.mark.integration

N, K, AMOUNT = 40, 9, 100
LIMIT = K * AMOUNT + AMOUNT // 2  # fits K, and half of one more: the (K+1)th must not squeeze in


@pytest.fixture(scope="module")
def two_apis(lab: Lab) -> Iterator[tuple[str, list[httpx.Client]]]:
    """The phase-4 database, and clients of two API processes on it (per-request and group
    commit), authenticated as the lab's driver (a service client: its rate allowance is far
    above these 40 requests, so the rate limiter refuses none of them)."""
    db = phase_database(lab, 4)
    servers = [lab.api(composition(4), port=free_port(), host="127.0.0.1", group_commit=gc,
                      db_pool_max=20)
               for gc in (False, True)]
    started: list[ApiServer] = []
    try:
        for server in servers:
            server.start()
            started.append(server)
        clients = [httpx.Client(base_url=s.url(), timeout=60,
                                auth=client_auth_for(composition(4), lab.settings, s.url()))
                   for s in servers]
        yield db, clients
        for client in clients:
            client.close()
    finally:
        for server in started:
            server.stop()


def _post(client: httpx.Client, path: str, body: dict[str, object]) -> httpx.Response:
    return client.post(path, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})


def test_n_concurrent_transfers_over_two_api_processes_exactly_k_pass(
        two_apis: tuple[str, list[httpx.Client]]) -> None:
    db, clients = two_apis
    setup = clients[0]
    src = _post(setup, "/accounts", {"owner": "limited", "currency": "EUR"}).json()["id"]
    dst = _post(setup, "/accounts", {"owner": "payee", "currency": "EUR"}).json()["id"]
    assert _post(setup, f"/accounts/{src}/deposits",
                 {"amount": N * AMOUNT, "currency": "EUR"}).status_code == 201
    limits = setup.put(f"/accounts/{src}/limits", json={"daily_outgoing_max": LIMIT})
    assert limits.status_code == 200, limits.text
    body = {"source_account_id": src, "destination_account_id": dst, "amount": AMOUNT,
            "currency": "EUR"}
    started = time.monotonic()
    with ThreadPoolExecutor(N) as pool:
        with dbfaults.row_locked(db, "accounts", src, Timeline()):
            futures = [pool.submit(_post, clients[i % 2], "/transfers", body) for i in range(N)]
            # Per-request transactions queue one each; a group-commit batch queues as one.
            inject.wait_for("the requests to queue on the source row",
                            lambda: dbfaults.lock_waiters(db) >= N // 4, timeout=30)
            time.sleep(0.5)  # the stragglers join the queue
            queued = dbfaults.lock_waiters(db)
        answers = [f.result() for f in futures]
    elapsed = time.monotonic() - started
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] * K + [422] * (N - K), [a.text for a in answers if a.status_code >= 500]
    assert {a.json()["code"] for a in answers if a.status_code == 422} == {"daily-limit-exceeded"}
    with psycopg.connect(db, autocommit=True) as sql:
        moved = sql.execute("SELECT count(*), sum(amount) FROM transfers WHERE kind = 'TRANSFER'"
                            " AND status = 'COMPLETED' AND source_id = %s", (src,)).fetchone()
        others = sql.execute("SELECT count(*) FROM transfers WHERE kind = 'TRANSFER'"
                             " AND status <> 'COMPLETED' AND source_id = %s", (src,)).fetchone()
        day = sql.execute("SELECT amount FROM account_daily_outgoing WHERE account_id = %s",
                          (src,)).fetchone()
    assert moved == (K, K * AMOUNT) and others == (0,)  # a refusal records nothing
    assert day == (K * AMOUNT,) and K * AMOUNT <= LIMIT < (K + 1) * AMOUNT
    print(f"\nN={N} concurrent over 2 API processes ({queued} waiting on the row at release), "
          f"limit {LIMIT} fits K={K}: {moved[0]} passed, daily total {day[0]} <= {LIMIT}, "
          f"{elapsed:.2f} s")
