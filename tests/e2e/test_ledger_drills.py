"""The phase-1 drills, as tests: the failures the naive baseline suffers, replayed on phase 1.

- A crash after every step of a transfer, before COMMIT: all or nothing; the retry with the same
  key moves the money once.
- Two requests race for the last 100 while a third connection holds the row until both wait on
  it (widening the race window, as load does by accident): exactly one wins.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from fintech_core.stack.api_server import ApiServer
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import free_port, port_open, wait_until
from phases import composition
from tests.conftest import phase_database
from tests.helpers import new_key, transfer_body

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(lab: Lab) -> Iterator[ApiServer]:
    phase_database(lab, 1)
    # One transaction per request, as the drills these replay (drill.PER_REQUEST): the race
    # needs both requests waiting on the row in two transactions; with group commit the second
    # would wait in the process for the first one's batch.
    api = lab.api(composition(1), port=free_port(), host="127.0.0.1", naive_baseline=True,
                  drill_mode=True, group_commit=False)
    api.start()
    try:
        yield api
    finally:
        api.stop()


def account(api: str, funded: int) -> str:
    r = httpx.post(f"{api}/accounts", json={"owner": "drill", "currency": "EUR"})
    if funded:
        httpx.post(f"{api}/accounts/{r.json()['id']}/deposits",
                   json={"amount": funded, "currency": "EUR"},
                   headers={"Idempotency-Key": new_key()}).raise_for_status()
    return str(r.json()["id"])


def balances(api: str, *ids: str) -> list[int]:
    return [httpx.get(f"{api}/accounts/{i}/balance").json()["posted"] for i in ids]


def test_a_crash_before_commit_moves_nothing_and_the_retry_moves_once(server: ApiServer) -> None:
    api = server.url()
    a, b = account(api, 1000), account(api, 0)
    httpx.post(f"{api}/_drill/faults", json={"point": "transfer.before_commit",
                                             "action": "crash"}).raise_for_status()
    key = new_key()
    with pytest.raises(httpx.TransportError):
        httpx.post(f"{api}/transfers", json=transfer_body(a, b, 400),
                   headers={"Idempotency-Key": key})
    server.stop()
    wait_until(lambda: not port_open(server.host, server.port), timeout=10)
    server.start()
    assert balances(api, a, b) == [1000, 0]
    assert httpx.get(f"{api}/ledger/verify").json()["drift"] == 0
    retry = httpx.post(f"{api}/transfers", json=transfer_body(a, b, 400),
                       headers={"Idempotency-Key": key})
    assert retry.status_code == 201 and "idempotent-replayed" not in retry.headers
    again = httpx.post(f"{api}/transfers", json=transfer_body(a, b, 400),
                       headers={"Idempotency-Key": key})
    assert again.headers["idempotent-replayed"] == "true"
    assert balances(api, a, b) == [600, 400]


def waiting_on_locks(database_url: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname ="
                           " current_database() AND wait_event_type = 'Lock'").fetchone()
    return int(row[0]) if row else 0


def race(api: str, database_url: str, lock_sql: str, row: object,
         send: list[tuple[str, dict[str, object], dict[str, str]]]) -> list[httpx.Response]:
    """Hold `row` locked from a third connection until every request waits on it, then let go."""
    replies: list[httpx.Response] = []
    with psycopg.connect(database_url) as holder:
        holder.execute(lock_sql, (row,))
        threads = [threading.Thread(target=lambda p=p, j=j, h=h: replies.append(
            httpx.post(f"{api}{p}", json=j, headers=h, timeout=30))) for p, j, h in send]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while waiting_on_locks(database_url) < len(send) and time.monotonic() < deadline:
            time.sleep(0.05)
        holder.rollback()
    for t in threads:
        t.join()
    return replies


def test_two_requests_race_for_the_last_100(server: ApiServer, lab: Lab) -> None:
    api, db = server.url(), phase_database(lab, 1)
    # The naive baseline: both read 100, both pass the check, both "succeed".
    src = httpx.post(f"{api}/naive/accounts", json={"owner": "a", "balance": 100}).json()["id"]
    dst = httpx.post(f"{api}/naive/accounts", json={"owner": "b", "balance": 0}).json()["id"]
    naive = race(api, db, "SELECT 1 FROM naive_accounts WHERE id = %s FOR UPDATE", src,
                 [("/naive/transfer", {"from_id": src, "to_id": dst, "amount": 100}, {})] * 2)
    assert [r.status_code for r in naive] == [200, 200]  # 200 spent twice from 100
    assert httpx.get(f"{api}/naive/accounts/{src}").json()["balance"] == 0
    # Phase 1: the account rows are locked before the check, so the second sees the first.
    a, b = account(api, 100), account(api, 0)
    replies = race(api, db, "SELECT 1 FROM accounts WHERE id = %s FOR UPDATE", a,
                   [("/transfers", transfer_body(a, b, 100), {"Idempotency-Key": new_key()})
                    for _ in range(2)])
    assert sorted(r.status_code for r in replies) == [201, 422]
    assert balances(api, a, b) == [0, 100]
