"""The naive baseline really breaks: each drill's "before" is reproduced over real HTTP.

These tests pass only while /naive is broken in the ways the article series describes; the phase
tests prove the real endpoints do not break the same way. Balances are read from PostgreSQL, never
from the API, because the API of the naive baseline is exactly what cannot be trusted.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
import pytest

from fintech_core.stack.lab import Lab
from tests.conftest import start_api

pytestmark = pytest.mark.e2e

MAIL_LATENCY_MS = 800  # the inline receipt keeps every naive request open this long


class NaiveApi:
    """A phase-0 API with the naive baseline and a slow mail server, restartable after a crash
    drill (a restart gets a new port, so always read `url` afresh)."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self._server: Iterator[str] | None = None
        self.url = ""
        self.start()

    def start(self) -> None:
        self._server = start_api(self.lab, 0, mail_latency_ms=MAIL_LATENCY_MS)
        self.url = next(self._server)

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()  # runs start_api's `finally`: the process is stopped
            self._server = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture(scope="module")
def naive(lab: Lab) -> Iterator[NaiveApi]:
    api = NaiveApi(lab)
    yield api
    api.stop()


def naive_account(api: NaiveApi, balance: float, owner: str = "naive") -> int:
    r = httpx.post(f"{api.url}/naive/accounts", json={"owner": owner, "balance": balance})
    assert r.status_code == 200, r.text
    return int(r.json()["id"])


def naive_balances(sql: psycopg.Connection, *ids: int) -> list[float]:
    rows = dict(sql.execute("SELECT id, balance FROM naive_accounts WHERE id = ANY(%s)",
                            (list(ids),)).fetchall())
    return [float(rows[i]) for i in ids]


def naive_transfer(api: NaiveApi, src: int, dst: int, amount: float,
                   timeout: float = 30) -> httpx.Response:
    return httpx.post(f"{api.url}/naive/transfer", timeout=timeout,
                      json={"from_id": src, "to_id": dst, "amount": amount})


def wait_for_debits_queued(sql: psycopg.Connection, n: int, timeout: float = 20) -> int:
    """How many naive debits wait on a row lock, once n do (or the timeout passes)."""
    deadline = time.monotonic() + timeout
    waiting = 0
    while waiting < n and time.monotonic() < deadline:
        time.sleep(0.05)
        row = sql.execute("SELECT count(*) FROM pg_stat_activity"
                          " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                          " AND query LIKE 'UPDATE naive_accounts%'").fetchone()
        waiting = int(row[0]) if row else 0
    return waiting


def test_timeout_then_retry_debits_twice(naive: NaiveApi, sql: psycopg.Connection) -> None:
    src, dst = naive_account(naive, 100), naive_account(naive, 0)
    # The client gives up long before the receipt is mailed, but both saves came first.
    with pytest.raises(httpx.TimeoutException):
        naive_transfer(naive, src, dst, 30, timeout=MAIL_LATENCY_MS / 1000 / 4)
    assert naive_balances(sql, src, dst) == [70, 30]  # the money moved; the client cannot know
    # The client has nothing to tell the server "this is the same transfer", so it repeats it.
    retry = naive_transfer(naive, src, dst, 30)
    assert retry.status_code == 200 and retry.json() == {"ok": True}
    assert naive_balances(sql, src, dst) == [40, 60]  # charged twice for one intent


def test_requests_racing_for_the_last_100_create_money(naive: NaiveApi,
                                                       sql: psycopg.Connection) -> None:
    """20 concurrent transfers of 100 from a balance of 100: only one should succeed.

    The window between the naive SELECT (the check) and its UPDATE (the debit) is a single round
    trip, so a bare race hits it only some of the time. To make the test deterministic we hold
    that window open: a second transaction keeps the source row locked (as a slow batch job or a
    long report would). Plain reads are not blocked by a row lock, so every request reads 100,
    passes the check and then queues on its UPDATE; once all of them are queued we let go. Each
    request pays a different destination, so the credits cannot lose each other's updates and
    the outcome is exact.
    """
    n = 20
    src = naive_account(naive, 100)
    dsts = [naive_account(naive, 0, owner=f"sink{i}") for i in range(n)]
    with ThreadPoolExecutor(max_workers=n) as pool, \
            psycopg.connect(sql.info.dsn, autocommit=True) as blocker:
        with blocker.transaction():
            blocker.execute("SELECT 1 FROM naive_accounts WHERE id = %s FOR UPDATE", (src,))
            futures = [pool.submit(naive_transfer, naive, src, d, 100) for d in dsts]
            assert wait_for_debits_queued(sql, n) == n, "not every request reached the debit"
        # Leaving the block commits and frees the row: the queued debits run one by one.
        replies = [f.result() for f in futures]
    assert [r.status_code for r in replies] == [200] * n  # every one passed the check
    balances = naive_balances(sql, src, *dsts)
    total, lowest = sum(balances), min(balances)
    # The invariant every phase keeps: money is conserved and no balance goes negative.
    assert not (total == 100 and lowest >= 0), balances
    assert balances[0] == 0 and total == 100 * n  # 1900 created out of thin air


def test_crash_between_debit_and_credit_destroys_money(naive: NaiveApi,
                                                       sql: psycopg.Connection) -> None:
    src, dst = naive_account(naive, 100), naive_account(naive, 0)
    arm = httpx.post(f"{naive.url}/_drill/faults",
                     json={"point": "naive.after_debit", "action": "crash"})
    assert arm.status_code == 204, arm.text
    try:
        with pytest.raises(httpx.TransportError):  # the process died: no response at all
            naive_transfer(naive, src, dst, 40)
        # The debit was autocommitted on its own, so the crash cannot roll it back.
        assert naive_balances(sql, src, dst) == [60, 0]
        assert sum(naive_balances(sql, src, dst)) == 60  # 40 destroyed
    finally:
        naive.restart()
    assert httpx.get(f"{naive.url}/health").status_code == 200
    # Nothing in the naive world records the attempt, so nothing can repair it after the restart.
    assert naive_balances(sql, src, dst) == [60, 0]
