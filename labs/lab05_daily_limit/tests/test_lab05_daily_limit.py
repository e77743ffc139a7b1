"""Lab 5 acceptance tests. Each test's first docstring paragraph is an acceptance criterion; the
README lists the same lines and `fcl lab check 5` reports them one by one.

Real PostgreSQL, real concurrent connections (one per transfer, one thread each). The races are
made certain, not lucky: every transfer is held at its commit point (inside the given
`post_transfer`) until each other transfer has either reached its own commit point, finished,
or is waiting for a database lock. So a transfer that reads the day's total without being
serialized always reads it before any competitor commits, and the tests see it every run; a
correct one waits for a lock instead, and the hold lets it go at once.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType

import psycopg
import pytest

from fintech_core.labs.database import apply_sql
from fintech_core.labs.loader import load_student_module

Connect = Callable[[], psycopg.Connection]
TODAY = date(2026, 1, 1)
HOLD_TIMEOUT = 20.0  # seconds a transfer waits at its commit point for the others to settle


@pytest.fixture(scope="module")
def impl() -> ModuleType:
    return load_student_module("daily_limit.py")


@pytest.fixture(scope="module")
def db_schema(database_url: str) -> None:
    apply_sql(database_url, Path(__file__).parents[1] / "schema.sql")


@pytest.fixture
def db(db_schema: None, connect: Connect) -> psycopg.Connection:
    return connect()


def new_account(db: psycopg.Connection, daily_limit: int, sent_today: int = 0) -> str:
    """An account with its limit, and `sent_today` already recorded for TODAY (a row exists)."""
    account = f"acc_{uuid.uuid4().hex[:12]}"
    db.execute("INSERT INTO lab5_accounts (account_id, daily_limit) VALUES (%s, %s)",
               (account, daily_limit))
    if sent_today:
        db.execute("INSERT INTO lab5_daily_outgoing (account_id, day, amount) VALUES (%s, %s, %s)",
                   (account, TODAY, sent_today))
    return account


def recorded(db: psycopg.Connection, account: str, day: date = TODAY) -> tuple[int, int, int]:
    """(the day's recorded total, transfers that moved money that day, their sum), read fresh."""
    row = db.execute("SELECT amount FROM lab5_daily_outgoing WHERE account_id = %s AND day = %s",
                     (account, day)).fetchone()
    count, total = db.execute("SELECT count(*), coalesce(sum(amount), 0) FROM lab5_transfers"
                              " WHERE account_id = %s AND day = %s", (account, day)).fetchone()
    return (int(row[0]) if row else 0), int(count), int(total)


def new_id() -> str:
    return f"tr_{uuid.uuid4().hex}"


def run_concurrently(impl: ModuleType, connect: Connect, monkeypatch: pytest.MonkeyPatch,
                     account: str, amounts: Sequence[int],
                     crash_first: bool = False) -> list[object]:
    """Start one transfer per amount, each on its own connection and thread, all released at once;
    return each one's answer (or the exception it raised). Each transfer is held at its commit
    point until the others are settled (see the module docstring), so the interleaving is always
    the same. With `crash_first`, the first transfer runs alone until its commit point, the others
    start then, and it fails (after moving the money, before COMMIT) once they are settled."""
    conns = [connect() for _ in amounts]
    monitor = connect()
    pids = {conn.info.backend_pid for conn in conns}
    settled: set[int] = set()  # backends past their check: at their commit point or finished
    guard = threading.Lock()
    real_post = impl.post_transfer
    first_at_commit_point = threading.Event()

    def others_settled(me: int) -> bool:
        with guard:
            pending = pids - settled - {me}
            if not pending:
                return True
            waiting = {pid for (pid,) in monitor.execute(
                "SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s) AND wait_event_type = 'Lock'",
                (list(pending),)).fetchall()}
        return pending <= waiting

    def hold_at_commit_point(conn: psycopg.Connection, transfer_id: str, *args: object) -> None:
        real_post(conn, transfer_id, *args)
        me = conn.info.backend_pid
        with guard:
            settled.add(me)
        if transfer_id == "crash_first":
            first_at_commit_point.set()
        deadline = time.monotonic() + HOLD_TIMEOUT
        while not others_settled(me):
            if time.monotonic() > deadline:
                raise AssertionError("the other transfers neither finished nor waited for a "
                                     "database lock: is something blocking outside PostgreSQL?")
            time.sleep(0.002)
        if transfer_id == "crash_first":
            raise RuntimeError("simulated crash after the money moved, before the commit")

    monkeypatch.setattr(impl, "post_transfer", hold_at_commit_point)
    start = threading.Barrier(len(conns))
    answers: list[object] = [None] * len(conns)

    def run(i: int, conn: psycopg.Connection) -> None:
        crashes = crash_first and i == 0
        transfer_id = "crash_first" if crashes else new_id()
        start.wait()
        if crash_first and not crashes:
            first_at_commit_point.wait(timeout=HOLD_TIMEOUT)
        try:
            answers[i] = impl.transfer(conn, transfer_id, account, amounts[i], TODAY)
        except Exception as exc:  # a crash is an answer the test must see
            answers[i] = exc
        finally:
            with guard:
                settled.add(conn.info.backend_pid)
            if crashes:
                first_at_commit_point.set()  # refused or failed early: never hold the others

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a transfer never finished"
    monkeypatch.setattr(impl, "post_transfer", real_post)
    return answers


def test_transfers_up_to_the_limit_pass_and_the_next_is_refused(
        impl: ModuleType, db: psycopg.Connection) -> None:
    """Transfers are accepted while the day's total fits the limit, one that reaches it exactly
    included; a transfer that would pass it is refused, records nothing and moves no money."""
    account = new_account(db, daily_limit=1000)
    assert impl.transfer(db, new_id(), account, 600, TODAY) == impl.ACCEPTED
    assert recorded(db, account) == (600, 1, 600)
    assert impl.transfer(db, new_id(), account, 500, TODAY) == impl.REFUSED
    assert recorded(db, account) == (600, 1, 600), "a refused transfer must not count"
    assert impl.transfer(db, new_id(), account, 400, TODAY) == impl.ACCEPTED  # exactly the limit
    assert recorded(db, account) == (1000, 2, 1000)
    assert impl.transfer(db, new_id(), account, 1, TODAY) == impl.REFUSED
    assert recorded(db, account) == (1000, 2, 1000)
    with db.transaction():  # called directly: the new total back, or the refusal
        other = new_account(db, daily_limit=50)
        assert impl.record_outgoing(db, other, 20, TODAY) == 20
        assert impl.record_outgoing(db, other, 30, TODAY) == 50
        with pytest.raises(impl.DailyLimitExceeded):
            impl.record_outgoing(db, other, 1, TODAY)
    assert recorded(db, other)[0] == 50


def test_the_limit_counts_per_account_and_per_day(impl: ModuleType,
                                                  db: psycopg.Connection) -> None:
    """The limit counts per account and per UTC day: another account's transfers and yesterday's
    do not use today's allowance, and the next day starts again from zero."""
    yesterday, tomorrow = TODAY - timedelta(days=1), TODAY + timedelta(days=1)
    mine, theirs = new_account(db, daily_limit=700), new_account(db, daily_limit=700)
    assert impl.transfer(db, new_id(), mine, 700, yesterday) == impl.ACCEPTED
    assert impl.transfer(db, new_id(), theirs, 700, TODAY) == impl.ACCEPTED
    assert impl.transfer(db, new_id(), mine, 700, TODAY) == impl.ACCEPTED
    assert impl.transfer(db, new_id(), mine, 1, TODAY) == impl.REFUSED
    assert impl.transfer(db, new_id(), mine, 700, tomorrow) == impl.ACCEPTED
    assert [recorded(db, mine, d) for d in (yesterday, TODAY, tomorrow)] == [(700, 1, 700)] * 3
    assert recorded(db, theirs) == (700, 1, 700)


def test_concurrent_transfers_exactly_as_many_as_fit_pass(
        impl: ModuleType, db: psycopg.Connection, connect: Connect,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Twelve concurrent transfers of 100 from an account with room for exactly five more today:
    exactly five are accepted, seven refused, none fails, and the day's total ends at the limit."""
    account = new_account(db, daily_limit=1000, sent_today=500)
    answers = run_concurrently(impl, connect, monkeypatch, account, [100] * 12)
    assert sorted(map(str, answers)) == sorted([impl.ACCEPTED] * 5 + [impl.REFUSED] * 7), answers
    assert recorded(db, account) == (1000, 5, 500)


def test_concurrent_first_transfers_of_the_day_race_too(
        impl: ModuleType, db: psycopg.Connection, connect: Connect,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The day's first transfers race too: of ten concurrent transfers of 300 from an account
    with nothing sent today (no row yet) and a limit of 1000, exactly three are accepted and the
    day's total is 900."""
    account = new_account(db, daily_limit=1000)
    answers = run_concurrently(impl, connect, monkeypatch, account, [300] * 10)
    assert sorted(map(str, answers)) == sorted([impl.ACCEPTED] * 3 + [impl.REFUSED] * 7), answers
    assert recorded(db, account) == (900, 3, 900)


def test_a_rolled_back_transfer_does_not_count(impl: ModuleType, db: psycopg.Connection,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A transfer that fails after the limit check rolls back and does not count: its amount is
    still available, and retrying it succeeds."""
    account = new_account(db, daily_limit=1000, sent_today=200)
    real_post = impl.post_transfer

    def crash_after_the_money(*args: object) -> None:
        real_post(*args)
        raise RuntimeError("simulated crash after the money moved, before the commit")

    monkeypatch.setattr(impl, "post_transfer", crash_after_the_money)
    with pytest.raises(Exception) as crashed:  # which exception: checked on the next line
        impl.transfer(db, "tr_retried", account, 800, TODAY)
    assert "simulated crash" in str(crashed.value), f"expected the crash, got {crashed.value!r}"
    assert recorded(db, account) == (200, 0, 0), "a rolled-back transfer must not count"
    monkeypatch.setattr(impl, "post_transfer", real_post)
    assert impl.transfer(db, "tr_retried", account, 800, TODAY) == impl.ACCEPTED
    assert recorded(db, account) == (1000, 1, 800)


def test_a_concurrent_crash_frees_its_allowance(impl: ModuleType, db: psycopg.Connection,
                                                connect: Connect,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Under concurrency, a transfer that crashes before its commit leaves its allowance to the
    others: of six concurrent transfers of 100 against a limit of 300, the first crashing while
    the five others run, exactly three of the five are accepted and the day's total is 300."""
    account = new_account(db, daily_limit=300)
    answers = run_concurrently(impl, connect, monkeypatch, account, [100] * 6, crash_first=True)
    assert "simulated crash" in str(answers[0]), answers
    assert sorted(map(str, answers[1:])) == sorted([impl.ACCEPTED] * 3 + [impl.REFUSED] * 2), \
        answers
    assert recorded(db, account) == (300, 3, 300)
