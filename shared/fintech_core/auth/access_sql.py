"""Phase 4's "access" extension: account holders in `accounts.holder`, privileged changes in
`audit_log` (migration p4_0002). Every method runs in the caller's transaction."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from fintech_core.accounts.domain import Account
from fintech_core.accounts.sql import ACCOUNT_COLS, account_from_row
from fintech_core.db.write_behind import Session


class SqlAccess:
    def __init__(self, conn: Session) -> None:
        self.conn = conn

    async def assign_account(self, account_id: UUID, subject: str) -> None:
        # `WHERE holder IS NULL`: a holder is set once; the trigger of p4_0002 refuses a change.
        await self.conn.execute(
            "UPDATE accounts SET holder = %s WHERE id = %s AND holder IS NULL",
            (subject, account_id))

    async def account_holder(self, account_id: UUID) -> str | None:
        cur = await self.conn.execute("SELECT holder FROM accounts WHERE id = %s", (account_id,))
        row = await cur.fetchone()
        return row[0] if row else None

    async def page_accounts(self, subject: str, after: UUID | None, limit: int,
                            owner: str | None) -> list[Account]:
        cur = await self.conn.execute(
            f"SELECT {ACCOUNT_COLS} FROM accounts"
            " WHERE holder = %(holder)s AND (%(after)s::uuid IS NULL OR id > %(after)s)"
            "   AND (%(owner)s::text IS NULL OR owner = %(owner)s)"
            " ORDER BY id LIMIT %(limit)s",
            {"holder": subject, "after": after, "owner": owner, "limit": limit})
        return [account_from_row(r) for r in await cur.fetchall()]

    async def audit(self, actor: str, action: str, object_id: UUID,
                    details: dict[str, Any]) -> None:
        await self.conn.execute(
            "INSERT INTO audit_log (actor, action, object_id, details) VALUES (%s, %s, %s, %s)",
            (actor, action, object_id, json.dumps(details)))
