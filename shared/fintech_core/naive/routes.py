"""THE DELIBERATELY BROKEN BASELINE ("before"), mounted only with FINCORE_NAIVE_BASELINE=true.

This is the transfer endpoint the article series starts from, kept so drills can run the same
failure against it and against a phase. Everything wrong here is wrong on purpose:
floats for money; the check, the debit and the credit are separate autocommitted statements (no
transaction, no locks), so races overdraw and a crash between the saves destroys money; no
Idempotency-Key, so a retry debits twice; the receipt is mailed inline, so a slow or broken mail
server makes the request slow or failed *after* the money moved; it returns {ok: true} and keeps
no record of the transfer. Do not copy any of it.
"""

from __future__ import annotations

import psycopg
from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel

from fintech_core.api.deps import ContainerDep
from fintech_core.auth.deps import public


class NaiveAccountIn(BaseModel):
    owner: str
    balance: float


class NaiveTransferIn(BaseModel):
    from_id: int
    to_id: int
    amount: float


# The naive baseline is mounted only with FINCORE_NAIVE_BASELINE (drills), and is deliberately
# unauthenticated: what it teaches is what breaks, not who may break it.
NAIVE_IS_PUBLIC = public("the deliberately broken baseline of the drills (drill stacks only)")


def router() -> APIRouter:
    r = APIRouter(prefix="/naive", tags=["naive baseline (deliberately broken)"],
                  dependencies=[Depends(NAIVE_IS_PUBLIC)])

    def connect(c: ContainerDep) -> psycopg.Connection:
        return psycopg.connect(c.database_url, autocommit=True)

    @r.post("/accounts")
    def create(body: NaiveAccountIn, c: ContainerDep) -> dict[str, object]:
        with connect(c) as db:
            row = db.execute("INSERT INTO naive_accounts (owner, balance) VALUES (%s, %s)"
                             " RETURNING id", (body.owner, body.balance)).fetchone()
        assert row is not None
        return {"id": row[0], "owner": body.owner, "balance": body.balance}

    @r.get("/accounts/{account_id}")
    def get(account_id: int, c: ContainerDep) -> dict[str, object]:
        with connect(c) as db:
            row = db.execute("SELECT id, owner, balance FROM naive_accounts WHERE id = %s",
                             (account_id,)).fetchone()
        if row is None:
            raise HTTPException(404, "no such account")
        return {"id": row[0], "owner": row[1], "balance": row[2]}

    @r.post("/transfer")
    def transfer(body: NaiveTransferIn, c: ContainerDep) -> dict[str, object]:
        with connect(c) as db:
            src = db.execute("SELECT balance FROM naive_accounts WHERE id = %s",
                             (body.from_id,)).fetchone()
            if src is None or src[0] < body.amount:
                raise HTTPException(400, "insufficient funds")
            new_src = src[0] - body.amount  # in memory: a concurrent request saw the same value
            db.execute("UPDATE naive_accounts SET balance = %s WHERE id = %s",
                       (new_src, body.from_id))
            c.faults.hit_sync("naive.after_debit")
            dst = db.execute("SELECT balance FROM naive_accounts WHERE id = %s",
                             (body.to_id,)).fetchone()
            if dst is None:
                raise HTTPException(404, "no such destination")  # the debit already happened
            db.execute("UPDATE naive_accounts SET balance = %s WHERE id = %s",
                       (dst[0] + body.amount, body.to_id))
        c.mailer.send(f"account-{body.from_id}", "Receipt", f"You sent {body.amount}")
        c.faults.hit_sync("naive.before_response")
        return {"ok": True}

    return r
