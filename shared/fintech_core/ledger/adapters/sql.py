"""The ledger's write side in PostgreSQL (schema: phases/phase01_ledger/migrations).

The projection (balances, running balances, the accounts.balance mirror) is maintained by the
posting trigger, not here: this adapter only appends, so no code path can post without updating
balances or update balances without posting. Transfer rows (holds, statuses, reversal links):
transfers.py beside this file.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from fintech_core.accounts.domain import Account
from fintech_core.accounts.sql import ACCOUNT_COLS, account_from_row
from fintech_core.domain.money import Money
from fintech_core.ledger.adapters.transfers import _OVERDUE, SqlLedgerTransfers
from fintech_core.ledger.model import Bucket, JournalEntry, LedgerAccount, Posting
from fintech_core.ledger.system import SystemAccount

_ACCOUNT = "id, currency, name, posted, pending_out, pending_in, credit_limit, version"


def _prefixed(alias: str, columns: str) -> str:
    return ", ".join(f"{alias}.{c.strip()}" for c in columns.split(","))


# The ledger row (8 columns), then its customer account row (6 columns, NULL for a system account).
_LOCK_WITH_ACCOUNTS = (
    f"WITH a AS MATERIALIZED (SELECT {ACCOUNT_COLS} FROM accounts"
    f"  WHERE id = ANY(%(accounts)s) ORDER BY id FOR UPDATE)"
    f" SELECT {_prefixed('l', _ACCOUNT)}, {_prefixed('a', ACCOUNT_COLS)}"
    f" FROM ledger_accounts l LEFT JOIN a ON a.id = l.id"
    f" WHERE l.id = ANY(%(ids)s) OR l.id IN (SELECT t.destination_id {_OVERDUE})"
    f" ORDER BY l.id FOR UPDATE OF l")


class SqlLedger(SqlLedgerTransfers):
    """The "ledger" unit-of-work extension: accounts, locks and appends, plus transfer rows."""

    async def open_account(self, account_id: UUID, currency: str, credit_limit: int) -> None:
        await self.conn.execute(
            "INSERT INTO ledger_accounts (id, kind, account_id, currency, credit_limit)"
            " VALUES (%s, 'CUSTOMER', %s, %s, %s)",
            (account_id, account_id, currency, credit_limit))

    async def ensure_system(self, accounts: Sequence[SystemAccount]) -> None:
        await self.conn.execute(
            "INSERT INTO ledger_accounts (id, kind, name, currency)"
            " SELECT i, 'SYSTEM', n, c"
            " FROM unnest(%s::uuid[], %s::text[], %s::text[]) AS x(i, n, c)"
            " ON CONFLICT (id) DO NOTHING",
            ([a.id for a in accounts], [a.name for a in accounts], [a.currency for a in accounts]))

    async def lock(self, ids: Sequence[UUID],
                   paying: Sequence[UUID] = ()) -> dict[UUID, LedgerAccount]:
        # One statement, ORDER BY id: every transaction locks ledger rows in the same global
        # order (after the accounts rows, before transfer rows), so none can wait in a cycle.
        cur = await self.conn.execute(
            f"SELECT {_ACCOUNT} FROM ledger_accounts WHERE id = ANY(%(ids)s)"
            f" OR id IN (SELECT t.destination_id {_OVERDUE}) ORDER BY id FOR UPDATE",
            {"ids": list(ids), "paying": list(paying)})
        return {r[0]: LedgerAccount(*r) for r in await cur.fetchall()}

    async def lock_with_accounts(
            self, account_ids: Sequence[UUID], ids: Sequence[UUID], paying: Sequence[UUID] = (),
    ) -> tuple[dict[UUID, Account], dict[UUID, LedgerAccount]]:
        # One statement instead of two (bench/README.md: on the request path statements are what
        # cost). The accounts rows are locked first: the CTE is materialised the first time the
        # join reads it, and the ledger rows are locked by the top-level FOR UPDATE OF l only
        # once the join and its ORDER BY have read everything. A customer account always has
        # its ledger row (a deferred constraint), so the LEFT JOIN loses no account; system
        # accounts have no `accounts` row.
        cur = await self.conn.execute(
            _LOCK_WITH_ACCOUNTS,
            {"accounts": list(account_ids), "ids": list(ids), "paying": list(paying)})
        accounts: dict[UUID, Account] = {}
        ledger: dict[UUID, LedgerAccount] = {}
        for r in await cur.fetchall():
            ledger[r[0]] = LedgerAccount(*r[:8])
            if r[8] is not None:
                accounts[r[8]] = account_from_row(r[8:])
        return accounts, ledger

    async def append(self, entry: JournalEntry) -> None:
        # Two held writes, sent with the rest of the transaction's writes (db/write_behind.py).
        # The postings' foreign key to their entry is checked at the end of that statement, when
        # both rows exist. The BEFORE INSERT trigger applies each posting to its account in this
        # order (releases before debits, see in_apply_order); a second entry in the same
        # transaction waits for the next flush, so entries apply in the order appended.
        #
        # Rows (db/write_behind.py): in a group-commit batch the entries and postings of all its
        # transfers merge into these two statements, the postings in the order appended, so the
        # trigger applies them entry after entry as the batch's checks simulated them.
        postings = entry.in_apply_order()
        await self.conn.hold_rows(
            "journal_entries",
            "INSERT INTO journal_entries (id, transfer_id, kind, created_at, effective_at)"
            " SELECT x.i, x.t, x.k, n.t, coalesce(x.e, n.t) FROM unnest(%s::uuid[], %s::uuid[],"
            " %s::text[], %s::timestamptz[]) AS x(i, t, k, e), (SELECT clock_timestamp() AS t) n",
            ([entry.id], [entry.transfer_id], [entry.kind.value], [entry.effective_at]))
        await self.conn.hold_rows(
            "postings",
            "INSERT INTO postings (journal_id, account_id, currency, bucket, direction, amount)"
            " SELECT x.j, x.a, x.c, x.b, x.d, x.m FROM unnest(%s::uuid[], %s::uuid[], %s::text[],"
            "  %s::text[], %s::text[], %s::bigint[]) WITH ORDINALITY AS x(j, a, c, b, d, m, o)"
            " ORDER BY x.o",
            ([entry.id] * len(postings), [p.account_id for p in postings],
             [p.amount.currency for p in postings], [p.bucket.value for p in postings],
             [p.direction for p in postings], [abs(p.amount.minor) for p in postings]))

    async def posted_postings(self, transfer_id: UUID) -> list[Posting]:
        """The net posted movement per account of a transfer: what a reversal negates."""
        cur = await self.conn.execute(
            "SELECT p.account_id, p.currency, sum(p.signed_amount)::bigint FROM postings p"
            " JOIN journal_entries j ON j.id = p.journal_id"
            " WHERE j.transfer_id = %s AND p.bucket = 'POSTED' GROUP BY 1, 2"
            " HAVING sum(p.signed_amount) <> 0 ORDER BY 1", (transfer_id,))
        return [Posting(r[0], Bucket.POSTED, Money(r[2], r[1])) for r in await cur.fetchall()]

