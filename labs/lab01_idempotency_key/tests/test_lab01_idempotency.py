"""Lab 1 acceptance tests. Each test's first docstring paragraph is an acceptance criterion; the
README lists the same lines and `fcl lab check 1` reports them one by one."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import psycopg
import pytest

from fintech_core.labs.database import apply_sql
from fintech_core.labs.loader import load_student_module

Connect = Callable[[], psycopg.Connection]


@pytest.fixture(scope="module")
def impl() -> ModuleType:
    return load_student_module("idempotent_transfer.py")


@pytest.fixture(scope="module")
def db_schema(database_url: str) -> None:
    apply_sql(database_url, Path(__file__).parents[1] / "schema.sql")


@pytest.fixture
def db(db_schema: None, connect: Connect) -> psycopg.Connection:
    return connect()


def open_accounts(db: psycopg.Connection, *balances: int) -> list[str]:
    ids = [f"acct-{uuid.uuid4().hex[:12]}" for _ in balances]
    for account, balance in zip(ids, balances, strict=True):
        db.execute("INSERT INTO lab1_accounts (id, balance) VALUES (%s, %s)", (account, balance))
    return ids


def balances(db: psycopg.Connection, *ids: str) -> list[int]:
    return [db.execute("SELECT balance FROM lab1_accounts WHERE id = %s", (i,)).fetchone()[0]
            for i in ids]


def transfers_from(db: psycopg.Connection, source: str) -> int:
    return db.execute("SELECT count(*) FROM lab1_transfers WHERE source = %s",
                      (source,)).fetchone()[0]


def key_row(db: psycopg.Connection, key: str) -> tuple[object, ...] | None:
    return db.execute("SELECT key, response_status FROM lab1_idempotency_keys WHERE key = %s",
                      (key,)).fetchone()


def test_first_request_moves_money(impl: ModuleType, db: psycopg.Connection) -> None:
    """A first request with a new key moves the money once and answers 201."""
    a, b = open_accounts(db, 1000, 0)
    response = impl.transfer_once(db, "k-" + a, impl.TransferRequest(a, b, 300))
    assert response.status == 201 and not response.replayed
    assert balances(db, a, b) == [700, 300]
    assert transfers_from(db, a) == 1
    assert key_row(db, "k-" + a) == ("k-" + a, 201), "the first response must be stored"


def test_retry_with_same_key_replays(impl: ModuleType, db: psycopg.Connection) -> None:
    """A retry with the same key and request replays the first response and moves nothing."""
    a, b = open_accounts(db, 1000, 0)
    request = impl.TransferRequest(a, b, 250)
    first = impl.transfer_once(db, "k-" + a, request)
    retries = [impl.transfer_once(db, "k-" + a, request) for _ in range(3)]
    for retry in retries:
        assert retry.replayed, "a retry must be marked as a replay"
        assert (retry.status, retry.body) == (first.status, first.body)
    assert balances(db, a, b) == [750, 250]
    assert transfers_from(db, a) == 1


def test_rejection_is_replayed_too(impl: ModuleType, db: psycopg.Connection) -> None:
    """A refusal (insufficient funds) settles the key: its retry is refused the same way, even
    after the account was funded."""
    a, b = open_accounts(db, 100, 0)
    request = impl.TransferRequest(a, b, 500)
    first = impl.transfer_once(db, "k-" + a, request)
    assert first.status == 422
    db.execute("UPDATE lab1_accounts SET balance = 1000 WHERE id = %s", (a,))
    retry = impl.transfer_once(db, "k-" + a, request)
    assert retry.replayed and (retry.status, retry.body) == (422, first.body)
    assert balances(db, a, b) == [1000, 0]


def test_same_key_other_request_is_refused(impl: ModuleType, db: psycopg.Connection) -> None:
    """The same key with a different request raises KeyReused (the API's 422) and moves nothing."""
    a, b = open_accounts(db, 1000, 0)
    impl.transfer_once(db, "k-" + a, impl.TransferRequest(a, b, 100))
    with pytest.raises(impl.KeyReused):
        impl.transfer_once(db, "k-" + a, impl.TransferRequest(a, b, 999))
    assert balances(db, a, b) == [900, 100]
    assert transfers_from(db, a) == 1


def test_different_keys_are_different_transfers(impl: ModuleType,
                                                db: psycopg.Connection) -> None:
    """Two keys for an identical request are two transfers: the key, not the body, names an
    attempt."""
    a, b = open_accounts(db, 1000, 0)
    request = impl.TransferRequest(a, b, 100)
    impl.transfer_once(db, "k1-" + a, request)
    second = impl.transfer_once(db, "k2-" + a, request)
    assert second.status == 201 and not second.replayed
    assert balances(db, a, b) == [800, 200]


def test_concurrent_duplicates_have_one_effect(impl: ModuleType, db: psycopg.Connection,
                                               connect: Connect) -> None:
    """Many concurrent requests with one key move the money exactly once, and every caller gets
    the same answer."""
    a, b = open_accounts(db, 1000, 0)
    request = impl.TransferRequest(a, b, 400)
    workers = 12
    barrier = threading.Barrier(workers)
    conns = [connect() for _ in range(workers)]
    results: list[object] = []

    def send(conn: psycopg.Connection) -> None:
        barrier.wait()
        try:
            results.append(impl.transfer_once(conn, "k-" + a, request))
        except Exception as exc:  # recorded, so the assertion below names it
            results.append(exc)

    threads = [threading.Thread(target=send, args=(c,)) for c in conns]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, f"duplicates must be replays, not errors: {errors[:3]}"
    assert len(results) == workers
    assert sum(not r.replayed for r in results) == 1  # type: ignore[attr-defined]
    first = results[0]
    assert all((r.status, r.body) == (first.status, first.body)  # type: ignore[attr-defined]
               for r in results)
    assert balances(db, a, b) == [600, 400]
    assert transfers_from(db, a) == 1


def test_failure_midway_leaves_key_unused(impl: ModuleType, db: psycopg.Connection,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """If the work fails halfway, nothing is kept: no money moved, no key stored, and a retry
    then moves the money once."""
    a, b = open_accounts(db, 1000, 0)
    request = impl.TransferRequest(a, b, 300)
    real_move = impl.move_money

    def crash_after_the_money_moved(conn: psycopg.Connection, req: object) -> object:
        real_move(conn, req)
        raise RuntimeError("simulated crash after the debit and the credit")

    monkeypatch.setattr(impl, "move_money", crash_after_the_money_moved)
    with pytest.raises(RuntimeError, match="simulated crash"):
        impl.transfer_once(db, "k-" + a, request)
    assert balances(db, a, b) == [1000, 0], "a failed attempt must leave no money moved"
    assert key_row(db, "k-" + a) is None, "a failed attempt must leave the key unused"
    monkeypatch.setattr(impl, "move_money", real_move)
    retry = impl.transfer_once(db, "k-" + a, request)
    assert retry.status == 201 and not retry.replayed
    assert balances(db, a, b) == [700, 300]
