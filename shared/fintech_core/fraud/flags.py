"""A finding becomes a flag, perhaps a freeze, and their events: all in the caller's transaction
(the consumer's, which also records the event as processed), so none exists without the others.

Why a flag is raised once: the account row is locked first (FOR UPDATE, as every write to the
account's money does), then a flag of the same rule, at least as severe, observed within the
rule's window, means the pattern is known and nothing is written; `UNIQUE (event_id, rule)`
is the last line for a redelivered event.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from uuid import UUID

import psycopg

from fintech_core.accounts.domain import Account, AccountStatus
from fintech_core.accounts.sql import ACCOUNT_COLS, account_from_row
from fintech_core.domain.ids import uuid7
from fintech_core.events.contracts import AccountFlaggedV1, AccountFrozenV1, Contract
from fintech_core.fraud.async_windows import Finding

FLAGGED = "fraud.account-flagged.v1"
FROZEN = "fraud.account-frozen.v1"
_AT_LEAST = {"medium": ["medium", "high"], "high": ["high"]}


def _emit(conn: psycopg.Connection, event_type: str, account_id: UUID, payload: Contract,
          correlation_id: UUID) -> None:
    # The outbox row the request path writes (events/outbox.py), keyed by the account: the
    # account's fraud events keep their order with its transfer events.
    conn.execute(
        "INSERT INTO outbox (event_id, aggregate_type, aggregate_id, event_type, payload,"
        " headers) VALUES (%s, 'account', %s, %s, %s::jsonb, %s::jsonb)",
        (uuid7(), account_id, event_type, payload.model_dump_json(),
         json.dumps({"correlation_id": str(correlation_id)})))


def _freeze(conn: psycopg.Connection, account: Account) -> None:
    """The accounts slice's transition (Account.frozen) on the row locked above. Only an ACTIVE
    account is frozen here: a frozen one stays so, a closed one moves no money anyway."""
    frozen = account.frozen()
    conn.execute("UPDATE accounts SET status = %s, updated_at = now() WHERE id = %s",
                 (frozen.status.value, frozen.id))


def raise_flag(conn: psycopg.Connection, account_id: UUID, finding: Finding, event_id: UUID,
               transfer_id: UUID, at: datetime) -> int | None:
    """The flag's id, or None when the pattern is already flagged (or the account is gone)."""
    row = conn.execute(f"SELECT {ACCOUNT_COLS} FROM accounts WHERE id = %s FOR UPDATE",
                       (account_id,)).fetchone()
    if row is None:
        return None
    known = conn.execute(
        "SELECT 1 FROM fraud_flags WHERE account_id = %s AND rule = %s AND severity = ANY(%s)"
        " AND observed_at > %s", (account_id, finding.rule, _AT_LEAST[finding.severity],
                                  at - timedelta(seconds=finding.window_s))).fetchone()
    if known is not None:
        return None
    account = account_from_row(row)
    froze = finding.severity == "high" and account.status is AccountStatus.ACTIVE
    inserted = conn.execute(
        "INSERT INTO fraud_flags (account_id, rule, severity, event_id, transfer_id,"
        " observed_at, details, froze) VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s)"
        " ON CONFLICT (event_id, rule) DO NOTHING RETURNING id",
        (account_id, finding.rule, finding.severity, event_id, transfer_id, at,
         json.dumps(finding.details), froze)).fetchone()
    if inserted is None:  # this event flagged this rule already
        return None
    if froze:
        _freeze(conn, account)
    flag_id = int(inserted[0])
    _emit(conn, FLAGGED, account_id, AccountFlaggedV1(
        flag_id=flag_id, account_id=account_id, rule=finding.rule,
        severity=finding.severity,  # type: ignore[arg-type]
        event_id=event_id, transfer_id=transfer_id, details=finding.details), transfer_id)
    if froze:
        _emit(conn, FROZEN, account_id, AccountFrozenV1(
            account_id=account_id, flag_id=flag_id, rule=finding.rule, event_id=event_id),
            transfer_id)
    return flag_id
