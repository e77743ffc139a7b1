"""Lab 2 acceptance tests. Each test's first docstring paragraph is an acceptance criterion; the
README lists the same lines and `fcl lab check 2` reports them one by one."""

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

# Test machinery, not part of the student's schema: any posting to an account whose id starts
# with "crash-" fails, simulating a crash in the middle of writing a transfer.
CRASH_TRIGGER = """
CREATE FUNCTION lab2_simulated_crash() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'simulated crash while posting to %', NEW.account_id; END $$;
CREATE TRIGGER lab2_simulated_crash AFTER INSERT ON lab2_postings FOR EACH ROW
    WHEN (NEW.account_id LIKE 'crash-%') EXECUTE FUNCTION lab2_simulated_crash();
"""


@pytest.fixture(scope="module")
def impl() -> ModuleType:
    return load_student_module("ledger_posting.py")


@pytest.fixture(scope="module")
def db_schema(database_url: str) -> None:
    apply_sql(database_url, Path(__file__).parents[1] / "schema.sql")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(CRASH_TRIGGER)


@pytest.fixture
def db(db_schema: None, connect: Connect) -> psycopg.Connection:
    return connect()


def open_account(db: psycopg.Connection, funded: int = 0, currency: str = "EUR",
                 prefix: str = "acct", overdraft: bool = False) -> str:
    """Funding is written here, by the test, so no test depends on post_transfer to set up."""
    account = f"{prefix}-{uuid.uuid4().hex[:12]}"
    db.execute("INSERT INTO lab2_accounts (id, currency, allow_overdraft) VALUES (%s, %s, %s)",
               (account, currency, overdraft))
    if funded:
        bank = f"bank-{uuid.uuid4().hex[:12]}"
        db.execute("INSERT INTO lab2_accounts VALUES (%s, %s, true)", (bank, currency))
        (txn,) = db.execute("INSERT INTO lab2_transactions DEFAULT VALUES RETURNING id").fetchone()
        db.execute("INSERT INTO lab2_postings (transaction_id, account_id, amount)"
                   " VALUES (%s, %s, %s), (%s, %s, %s)", (txn, bank, -funded, txn, account, funded))
    return account


def balance(db: psycopg.Connection, account: str) -> int:
    return int(db.execute("SELECT COALESCE(sum(amount), 0) FROM lab2_postings"
                          " WHERE account_id = %s", (account,)).fetchone()[0])


def postings_of(db: psycopg.Connection, account: str) -> int:
    return db.execute("SELECT count(*) FROM lab2_postings WHERE account_id = %s",
                      (account,)).fetchone()[0]


def ledger_is_balanced(db: psycopg.Connection) -> None:
    total = db.execute("SELECT COALESCE(sum(amount), 0) FROM lab2_postings").fetchone()[0]
    assert total == 0, f"all postings must sum to zero, they sum to {total}"
    unbalanced = db.execute("SELECT transaction_id FROM lab2_postings GROUP BY transaction_id"
                            " HAVING sum(amount) <> 0 OR count(*) < 2").fetchall()
    assert not unbalanced, f"transactions that do not balance: {unbalanced[:5]}"
    orphans = db.execute("SELECT count(*) FROM lab2_transactions t WHERE NOT EXISTS"
                         " (SELECT 1 FROM lab2_postings p WHERE p.transaction_id = t.id)"
                         ).fetchone()[0]
    assert orphans == 0, f"{orphans} transaction rows have no postings"


def run_concurrently(connect: Connect, jobs: list[Callable[[psycopg.Connection], object]]
                     ) -> list[object]:
    """Start every job at the same instant, each on its own connection; return results and
    exceptions in job order."""
    conns = [connect() for _ in jobs]
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = jobs[i](conns[i])
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_transfer_writes_balanced_postings(impl: ModuleType, db: psycopg.Connection) -> None:
    """A transfer writes one transaction of two postings, -amount on the source and +amount on
    the destination, summing to zero."""
    a, b = open_account(db, funded=1000), open_account(db)
    txn = impl.post_transfer(db, a, b, 300, "EUR")
    rows = db.execute("SELECT account_id, amount FROM lab2_postings WHERE transaction_id = %s"
                      " ORDER BY amount", (txn,)).fetchall()
    assert rows == [(a, -300), (b, 300)]
    assert (balance(db, a), balance(db, b)) == (700, 300)
    ledger_is_balanced(db)


def test_overdraft_is_refused(impl: ModuleType, db: psycopg.Connection) -> None:
    """A transfer larger than the source's balance raises InsufficientFunds and writes nothing."""
    a, b = open_account(db, funded=100), open_account(db)
    with pytest.raises(impl.InsufficientFunds):
        impl.post_transfer(db, a, b, 101, "EUR")
    impl.post_transfer(db, a, b, 100, "EUR")  # the exact balance is allowed
    assert (balance(db, a), balance(db, b)) == (0, 100)
    ledger_is_balanced(db)


def test_funding_account_may_go_negative(impl: ModuleType, db: psycopg.Connection) -> None:
    """Only an account that allows overdraft (the bank's funding account) may go below zero,
    and the ledger still sums to zero."""
    bank, a = open_account(db, prefix="bank", overdraft=True), open_account(db)
    impl.post_transfer(db, bank, a, 5000, "EUR")
    assert (balance(db, bank), balance(db, a)) == (-5000, 5000)
    ledger_is_balanced(db)


@pytest.mark.parametrize("amount", [0, -5, 10.5, True, "100"])
def test_amount_must_be_positive_integer(impl: ModuleType, db: psycopg.Connection,
                                         amount: object) -> None:
    """Amounts are positive integers of minor units: zero, negatives, floats, booleans and
    strings raise InvalidTransfer and write nothing."""
    a, b = open_account(db, funded=1000), open_account(db)
    with pytest.raises(impl.InvalidTransfer):
        impl.post_transfer(db, a, b, amount, "EUR")
    assert (postings_of(db, a), postings_of(db, b)) == (1, 0)


def test_bad_accounts_are_refused(impl: ModuleType, db: psycopg.Connection) -> None:
    """The same account twice, an unknown account, or a currency mismatch raises InvalidTransfer
    and writes nothing."""
    a, b = open_account(db, funded=1000), open_account(db)
    usd = open_account(db, currency="USD")
    for source, destination, currency in ((a, a, "EUR"), (a, "acct-missing", "EUR"),
                                          ("acct-missing", a, "EUR"), (a, usd, "EUR"),
                                          (a, b, "USD")):
        with pytest.raises(impl.InvalidTransfer):
            impl.post_transfer(db, source, destination, 10, currency)
    assert (balance(db, a), postings_of(db, b), postings_of(db, usd)) == (1000, 0, 0)


@pytest.mark.parametrize("broken_side", ["destination", "source"])
def test_all_or_nothing(impl: ModuleType, db: psycopg.Connection, broken_side: str) -> None:
    """A crash while writing the transfer leaves nothing behind: no posting, no transaction
    row, balances unchanged."""
    good = open_account(db, funded=1000)
    broken = open_account(db, prefix="crash", overdraft=True)
    source, destination = (good, broken) if broken_side == "destination" else (broken, good)
    with pytest.raises(Exception, match="simulated crash"):
        impl.post_transfer(db, source, destination, 200, "EUR")
    assert balance(db, good) == 1000
    assert postings_of(db, good) == 1  # only its funding
    ledger_is_balanced(db)


def test_no_overdraft_under_concurrency(impl: ModuleType, db: psycopg.Connection,
                                        connect: Connect) -> None:
    """Concurrent transfers from one account never overdraw it: exactly balance/amount of them
    succeed and the rest raise InsufficientFunds."""
    a, b = open_account(db, funded=1000), open_account(db)
    results = run_concurrently(connect, [
        lambda conn: impl.post_transfer(conn, a, b, 100, "EUR") for _ in range(20)])
    unexpected = [r for r in results
                  if isinstance(r, Exception) and not isinstance(r, impl.InsufficientFunds)]
    assert not unexpected, f"only InsufficientFunds may be raised: {unexpected[:3]}"
    assert sum(isinstance(r, int) for r in results) == 10
    assert (balance(db, a), balance(db, b)) == (0, 1000)
    ledger_is_balanced(db)


def test_opposite_transfers_do_not_deadlock(impl: ModuleType, db: psycopg.Connection,
                                            connect: Connect) -> None:
    """Transfers in both directions between two accounts at once all complete (no deadlock) and
    conserve the money."""
    a, b = open_account(db, funded=1000), open_account(db, funded=1000)
    jobs = [(lambda conn: impl.post_transfer(conn, a, b, 10, "EUR")) if i % 2 else
            (lambda conn: impl.post_transfer(conn, b, a, 10, "EUR")) for i in range(20)]
    results = run_concurrently(connect, jobs)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, f"every transfer must succeed: {errors[:3]}"
    assert (balance(db, a), balance(db, b)) == (1000, 1000)
    ledger_is_balanced(db)
