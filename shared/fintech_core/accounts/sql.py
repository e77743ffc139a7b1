"""Accounts in PostgreSQL (phase 0 schema)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from fintech_core.accounts.domain import Account, AccountStatus
from fintech_core.db.write_behind import Session

ACCOUNT_COLS = "id, owner, currency, status, balance, created_at"


def account_from_row(row: tuple[Any, ...]) -> Account:
    return Account(row[0], row[1], row[2], AccountStatus(row[3]), row[4], row[5])


class SqlAccounts:
    def __init__(self, conn: Session) -> None:
        self.conn = conn

    async def add(self, account: Account) -> None:
        await self.conn.execute(
            "INSERT INTO accounts (id, owner, currency, status, balance, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (account.id, account.owner, account.currency, account.status.value,
             account.balance, account.created_at),
        )

    async def get(self, account_id: UUID) -> Account | None:
        cur = await self.conn.execute(
            f"SELECT {ACCOUNT_COLS} FROM accounts WHERE id = %s", (account_id,))
        row = await cur.fetchone()
        return account_from_row(row) if row else None

    async def page(self, after: UUID | None, limit: int, owner: str | None) -> list[Account]:
        cur = await self.conn.execute(
            f"SELECT {ACCOUNT_COLS} FROM accounts"
            " WHERE (%(after)s::uuid IS NULL OR id > %(after)s)"
            "   AND (%(owner)s::text IS NULL OR owner = %(owner)s)"
            " ORDER BY id LIMIT %(limit)s",
            {"after": after, "owner": owner, "limit": limit},
        )
        return [account_from_row(r) for r in await cur.fetchall()]

    async def lock(self, ids: Sequence[UUID]) -> dict[UUID, Account]:
        # ORDER BY id: PostgreSQL locks rows in the order it returns them, so every transaction
        # takes locks in the same global order and no two can wait on each other in a cycle.
        cur = await self.conn.execute(
            f"SELECT {ACCOUNT_COLS} FROM accounts WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
            (list(ids),),
        )
        return {a.id: a for a in map(account_from_row, await cur.fetchall())}

    async def set_status(self, account: Account) -> None:
        await self.conn.execute(
            "UPDATE accounts SET status = %s, updated_at = now() WHERE id = %s",
            (account.status.value, account.id),
        )

    async def apply_deltas(self, deltas: Mapping[UUID, int]) -> None:
        # One statement for both legs: the CHECK (balance >= 0) constraint sees the final values.
        # Held (db/write_behind.py): the rows are locked and the funds checked already, so it
        # travels with the transfer row and the idempotency record, in one round trip.
        # Rows: a group-commit batch merges its transfers' deltas, so one account may appear
        # more than once; they are summed first (an UPDATE applies one joined row per target).
        await self.conn.hold_rows(
            "accounts", "UPDATE accounts a SET balance = a.balance + d.delta, updated_at = now()"
            " FROM (SELECT id, sum(delta)::bigint AS delta FROM unnest(%s::uuid[], %s::bigint[])"
            " AS u(id, delta) GROUP BY id) d WHERE a.id = d.id",
            (list(deltas.keys()), list(deltas.values())),
        )
