"""Correctness after every benchmark run: a fast wrong answer is not a result.

Facts come from the database, never from the load generator's belief: the seeded money is all
still there, no balance is negative, and every 201 the clients saw is exactly one new COMPLETED
transfer (one transfer per key). From phase 1 on, the ledger's own verify must report no drift.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import psycopg

from fintech_core.bench.auth import auth_of


@dataclass(frozen=True)
class LedgerState:
    total: int
    minimum: int
    completed_transfers: int


def ledger_state(database_url: str, accounts: list[str]) -> LedgerState:
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(balance), 0), coalesce(min(balance), 0),"
            " (SELECT count(*) FROM transfers WHERE kind = 'TRANSFER' AND status = 'COMPLETED')"
            " FROM accounts WHERE id = ANY(%s::uuid[])", (accounts,)).fetchone()
    assert row is not None
    return LedgerState(int(row[0]), int(row[1]), int(row[2]))


def ledger_report(api_url: str) -> dict[str, object] | None:
    """The ledger's own verify, or None when the composed phases keep no ledger. From phase 4
    on it needs a token with `ledger:verify` (the lab's driver holds admin); a 401/403 raises:
    the bench's credentials are wrong, which says nothing about the ledger."""
    spec = httpx.get(f"{api_url}/openapi.json", timeout=10).json()
    if "/ledger/verify" not in spec.get("paths", {}):
        return None
    r = httpx.get(f"{api_url}/ledger/verify", timeout=120, auth=auth_of(api_url))
    if r.status_code in (401, 403):
        r.raise_for_status()
    return r.json()  # type: ignore[no-any-return]


def verify(before: LedgerState, after: LedgerState, created: int,
           ledger: dict[str, object] | None) -> dict[str, object]:
    checks: dict[str, object] = {
        "money_conserved": after.total == before.total,
        "no_negative_balance": after.minimum >= 0,
        "one_transfer_per_201": after.completed_transfers - before.completed_transfers == created,
    }
    if ledger is not None:
        checks["ledger_zero_drift"] = ledger.get("drift") == 0  # VerifyOut.drift: findings count
    checks["ok"] = all(checks.values())
    return checks
