"""Small HTTP helpers shared by e2e tests: a client of the real API and ledger snapshots."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import psycopg


def new_key() -> str:
    return str(uuid.uuid4())


def open_account(api: str, owner: str = "alice", currency: str = "EUR",
                 funded: int = 0, auth: Any = None) -> str:
    """`auth`: a LabSession's `.auth` when the API verifies tokens (phase 4 on)."""
    r = httpx.post(f"{api}/accounts", json={"owner": owner, "currency": currency}, auth=auth)
    assert r.status_code == 201, r.text
    account_id = str(r.json()["id"])
    if funded:
        d = httpx.post(f"{api}/accounts/{account_id}/deposits",
                       json={"amount": funded, "currency": currency},
                       headers={"Idempotency-Key": new_key()}, auth=auth)
        assert d.status_code == 201, d.text
    return account_id


def transfer_body(source: str, destination: str, amount: int,
                  currency: str = "EUR") -> dict[str, Any]:
    return {"source_account_id": source, "destination_account_id": destination,
            "amount": amount, "currency": currency}


def balance(sql: psycopg.Connection, account_id: str) -> int:
    row = sql.execute("SELECT balance FROM accounts WHERE id = %s", (account_id,)).fetchone()
    assert row is not None
    return int(row[0])


def snapshot(sql: psycopg.Connection) -> tuple[Any, ...]:
    """Everything a request could have changed, for "bad input changes nothing" checks."""
    return tuple(
        sql.execute(q).fetchall() for q in (
            "SELECT id, status, balance FROM accounts ORDER BY id",
            "SELECT id, status FROM transfers ORDER BY id",
            "SELECT principal, key FROM idempotency_keys ORDER BY 1, 2",
        )
    )
