"""The database's own guarantees, tested with raw SQL, as a bug or a psql session would write it.

The service never tries any of this; these tests prove that if it ever did (or a person did),
PostgreSQL refuses and nothing changes.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import errors

from fintech_core.ledger.system import SystemRole, system_account
from tests.integration.ledger_client import LedgerClient

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

REFUSED = (errors.ObjectNotInPrerequisiteState, errors.CheckViolation, errors.ForeignKeyViolation,
           errors.UniqueViolation)


def refuses(db: str, *statements: str, params: tuple[object, ...] = ()) -> Exception:
    """Run the statements in one transaction; assert PostgreSQL refuses, return the error."""
    with psycopg.connect(db) as conn, pytest.raises(REFUSED) as refused:
        for statement in statements:
            conn.execute(statement, params if "%s" in statement else None)
        conn.commit()
    return refused.value


async def funded_pair(ledger: LedgerClient) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    a, b = await ledger.open(funded=1000), await ledger.open("bob")
    transfer = await ledger.move(a, b, 300)
    return a, b, transfer.transfer.id


def snapshot(ledger: LedgerClient) -> tuple[object, ...]:
    return tuple(ledger.sql(q) for q in (
        "SELECT id, posted, pending_out, pending_in, version FROM ledger_accounts ORDER BY id",
        "SELECT count(*), coalesce(sum(signed_amount), 0) FROM postings",
        "SELECT id, status FROM transfers ORDER BY id", "SELECT count(*) FROM journal_entries"))


@pytest.mark.parametrize("statement", [
    "UPDATE postings SET amount = amount + 1",
    "DELETE FROM postings",
    "TRUNCATE postings CASCADE",
    "UPDATE journal_entries SET kind = 'VOID'",
    "DELETE FROM journal_entries",
    "UPDATE transfer_events SET to_status = 'FAILED'",
    "DELETE FROM transfer_events",
])
async def test_the_journal_is_append_only(ledger: LedgerClient, statement: str) -> None:
    await funded_pair(ledger)
    before = snapshot(ledger)
    error = refuses(ledger.database_url, statement)
    assert "append-only" in str(error) or "truncate" in str(error).lower()
    assert snapshot(ledger) == before


async def test_balances_change_only_by_appending_postings(ledger: LedgerClient) -> None:
    a, _, _ = await funded_pair(ledger)
    before = snapshot(ledger)
    assert "appending postings" in str(refuses(
        ledger.database_url, "UPDATE ledger_accounts SET posted = posted + 1000000"))
    assert "projection of the ledger" in str(refuses(
        ledger.database_url, "UPDATE accounts SET balance = 0 WHERE id = %s", params=(a,)))
    refuses(ledger.database_url, "DELETE FROM ledger_accounts WHERE id = %s", params=(a,))
    assert snapshot(ledger) == before


def _entry_sql(transfer_id: uuid.UUID, entry_id: uuid.UUID) -> str:
    return (f"INSERT INTO journal_entries (id, transfer_id, kind, created_at, effective_at)"
            f" VALUES ('{entry_id}', '{transfer_id}', 'TRANSFER', now(), now())")


def _posting_sql(entry_id: uuid.UUID, account: uuid.UUID, direction: str, amount: int,
                 currency: str = "EUR") -> str:
    return (f"INSERT INTO postings (journal_id, account_id, currency, bucket, direction, amount)"
            f" VALUES ('{entry_id}', '{account}', '{currency}', 'POSTED', '{direction}', {amount})")


async def test_an_unbalanced_entry_is_refused_at_commit(ledger: LedgerClient) -> None:
    a, b, transfer = await funded_pair(ledger)
    before = snapshot(ledger)
    entry = uuid.uuid4()
    error = refuses(ledger.database_url, _entry_sql(transfer, entry),
                    _posting_sql(entry, a, "DEBIT", 5), _posting_sql(entry, b, "CREDIT", 4))
    assert "does not balance" in str(error)
    entry = uuid.uuid4()
    error = refuses(ledger.database_url, _entry_sql(transfer, entry))  # an entry with no postings
    assert "fewer than two postings" in str(error)
    assert snapshot(ledger) == before


async def test_a_balanced_entry_by_hand_is_projected_and_verify_flags_what_it_moved(
        scratch_ledger: LedgerClient) -> None:
    """The trigger keeps the projection exact for any writer; verify still notices that the
    transfer now moved more than its amount."""
    ledger = scratch_ledger
    a, b, transfer = await funded_pair(ledger)
    entry = uuid.uuid4()
    with psycopg.connect(ledger.database_url) as conn:
        for s in (_entry_sql(transfer, entry), _posting_sql(entry, b, "CREDIT", 5),
                  _posting_sql(entry, a, "DEBIT", 5)):
            conn.execute(s)
    assert (await ledger.balance(a)).posted == 695 and (await ledger.balance(b)).posted == 305
    report = await ledger.verify()
    assert report.transfer_mismatches == [transfer] and report.drift == 1
    assert not report.projection_drift and all(t.balanced for t in report.totals)


async def test_verify_finds_tampering_behind_disabled_triggers(
        scratch_ledger: LedgerClient) -> None:
    """A superuser can disable triggers; verify trusts only the postings, so it still sees."""
    ledger = scratch_ledger
    a, b, _ = await funded_pair(ledger)
    assert (await ledger.verify()).drift == 0
    ledger.sql("ALTER TABLE ledger_accounts DISABLE TRIGGER ledger_accounts_guard")
    ledger.sql("UPDATE ledger_accounts SET posted = posted + 1 WHERE id = %s", (a,))
    ledger.sql("ALTER TABLE postings DISABLE TRIGGER postings_append_only")
    ledger.sql("UPDATE postings SET balance_after = balance_after + 7 WHERE account_id = %s"
               " AND account_seq = 1", (b,))
    report = await ledger.verify()
    assert report.projection_drift == [a]
    assert report.mirror_drift == [a]  # accounts.balance kept the true value
    assert report.running_balance_breaks == 1
    assert [t.balanced for t in report.totals] == [False]
    assert report.drift == 4


@pytest.mark.parametrize(("direction", "amount", "currency"), [
    ("DEBIT", 0, "EUR"), ("DEBIT", -5, "EUR"), ("SIDEWAYS", 5, "EUR"), ("DEBIT", 5, "USD")])
async def test_postings_guard_sign_amount_and_currency(ledger: LedgerClient, direction: str,
                                                       amount: int, currency: str) -> None:
    a, b, transfer = await funded_pair(ledger)
    entry = uuid.uuid4()
    refuses(ledger.database_url, _entry_sql(transfer, entry),
            _posting_sql(entry, a, direction, amount, currency),
            _posting_sql(entry, b, "CREDIT", abs(amount) or 1, currency))


async def test_the_overdraft_constraint_is_the_last_line_of_defence(ledger: LedgerClient) -> None:
    a, b, transfer = await funded_pair(ledger)  # a holds 700, limit 0
    entry = uuid.uuid4()
    error = refuses(ledger.database_url, _entry_sql(transfer, entry),
                    _posting_sql(entry, a, "DEBIT", 701), _posting_sql(entry, b, "CREDIT", 701))
    assert "ledger_accounts_overdraft" in str(error)


async def test_transfers_change_only_their_status_along_the_state_machine(
        ledger: LedgerClient) -> None:
    _, _, transfer = await funded_pair(ledger)
    for statement in ("UPDATE transfers SET amount = 1 WHERE id = %s",
                      "UPDATE transfers SET status = 'PENDING' WHERE id = %s",
                      "UPDATE transfers SET status = 'VOIDED' WHERE id = %s",
                      "DELETE FROM transfers WHERE id = %s"):
        refuses(ledger.database_url, statement, params=(transfer,))
    assert ledger.sql("SELECT status FROM transfers WHERE id = %s", (transfer,)) == [
        ("COMPLETED",)]


async def test_every_account_has_a_ledger_account(ledger: LedgerClient) -> None:
    error = refuses(ledger.database_url, "INSERT INTO accounts (id, owner, currency)"
                                         " VALUES (gen_random_uuid(), 'x', 'EUR')")
    assert "no ledger account" in str(error)


async def test_a_transfer_is_reversed_at_most_once_even_by_hand(ledger: LedgerClient) -> None:
    a, b, transfer = await funded_pair(ledger)
    await ledger.reverse(transfer)
    error = refuses(ledger.database_url,
                    "INSERT INTO transfers (id, kind, source_id, destination_id, amount, currency,"
                    " status, reverses_id) VALUES (gen_random_uuid(), 'REVERSAL', %s, %s, 300,"
                    " 'EUR', 'COMPLETED', %s)", params=(b, a, transfer))
    assert isinstance(error, errors.UniqueViolation)


async def test_a_release_without_a_reservation_is_refused(ledger: LedgerClient) -> None:
    """A double void written by hand: pending_out would go negative."""
    a, b = await ledger.open(funded=1000), await ledger.open("bob")
    held = (await ledger.move(a, b, 400, hold=True)).transfer.id
    await ledger.void(held)
    entry = uuid.uuid4()
    refuses(ledger.database_url,
            f"INSERT INTO journal_entries (id, transfer_id, kind, created_at, effective_at)"
            f" VALUES ('{entry}', '{held}', 'VOID', now(), now())",
            f"INSERT INTO postings (journal_id, account_id, currency, bucket, direction, amount)"
            f" VALUES ('{entry}', '{a}', 'EUR', 'PENDING_OUT', 'CREDIT', 400),"
            f" ('{entry}', '{b}', 'EUR', 'PENDING_IN', 'DEBIT', 400)")


async def test_the_pipeline_lock_takes_account_and_ledger_rows_in_one_statement(
        ledger: LedgerClient) -> None:
    """`lock_with_accounts`: what phase 1's lock_accounts step calls. Both tables' rows are held
    until the transaction ends (another session cannot lock them), system accounts come without
    an accounts row, and an account that does not exist is simply absent."""
    a = await ledger.open(funded=1000)
    cash_in = system_account(SystemRole.CASH_IN, "EUR").id
    ghost = uuid.uuid4()
    async with ledger.c.uow_factory() as uow:
        accounts, rows = await uow.extension("ledger").lock_with_accounts(
            [a, ghost], sorted([a, cash_in, ghost]))
        assert set(accounts) == {a} and accounts[a].balance == 1000
        assert set(rows) == {a, cash_in} and rows[a].posted == 1000
        with psycopg.connect(ledger.database_url) as other:
            for table, row in (("accounts", a), ("ledger_accounts", a),
                               ("ledger_accounts", cash_in)):
                with pytest.raises(errors.LockNotAvailable):
                    other.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE NOWAIT",
                                  (row,))
                other.rollback()
    with psycopg.connect(ledger.database_url) as other:  # released with the transaction
        other.execute("SELECT 1 FROM accounts WHERE id = %s FOR UPDATE NOWAIT", (a,))
