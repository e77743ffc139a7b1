"""The async fraud rules: a phase-2 consumer ("fraud-async") behind the outbox.

The request path decides within a budget, from Redis counters (engine.py). Patterns that need
more context (a day of payees, amounts just under a threshold, money that only passed through)
are read here, after the fact, from PostgreSQL, with no budget. A finding flags the account
(fraud_flags), freezes it when severe, and announces both (fraud.account-flagged.v1,
fraud.account-frozen.v1) through the outbox.

Guarantees, and why:
- once per event: the consumer framework (events/consumer.py) records the event in
  processed_events in the transaction that writes the flag, the freeze and the events; a
  redelivered event is skipped, and `UNIQUE (event_id, rule)` holds even for a replay from the
  dead letters; retries, backoff and the DLQ are the framework's;
- the same answer on every read: the windows end at the transfer's own `created_at`;
- people, not the lab's machines: accounts held by a machine client (auth_clients: the bench,
  chaos and drill driver, the payments worker) are out of scope, as every v1 sync rule is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

import psycopg

from fintech_core.events.contracts import (
    Contract,
    Envelope,
    TransferCompletedV1,
    TransferHeldV1,
)
from fintech_core.fraud.async_windows import PATTERNS, Thresholds
from fintech_core.fraud.flags import raise_flag

CONSUMER = "fraud-async"


def _money_out(event: Contract) -> tuple[UUID, UUID] | None:
    """(payer, transfer) of an event announcing money leaving a customer account, else None."""
    if isinstance(event, TransferCompletedV1) and event.kind in ("TRANSFER", "WITHDRAWAL"):
        return (event.source_account_id, event.transfer_id) if event.source_account_id else None
    if isinstance(event, TransferHeldV1):  # a review hold, a payout's reservation
        return event.source_account_id, event.transfer_id
    return None


def _in_scope(conn: psycopg.Connection, account: UUID, transfer: UUID) -> datetime | None:
    """The transfer's created_at when its payer is a person's account, else None."""
    row = conn.execute(
        "SELECT t.created_at FROM transfers t JOIN accounts a ON a.id = t.source_id"
        " WHERE t.id = %s AND a.id = %s AND (a.holder IS NULL OR NOT EXISTS"
        " (SELECT 1 FROM auth_clients c WHERE c.client_id = a.holder))",
        (transfer, account)).fetchone()
    return row[0] if row else None


@dataclass
class FraudAsyncRules:
    """The Handler (events/consumer.py) the fraud-async worker runs."""

    thresholds: Thresholds = field(default_factory=Thresholds)
    name: str = CONSUMER

    def apply(self, conn: psycopg.Connection, envelope: Envelope, event: Contract,
              headers: dict[str, str]) -> None:
        out = _money_out(event)
        if out is None:
            return
        account, transfer = out
        at = _in_scope(conn, account, transfer)
        if at is None:
            return
        for pattern in PATTERNS:
            finding = pattern(conn, account, at, self.thresholds)
            if finding is not None:
                raise_flag(conn, account, finding, envelope.event_id, transfer, at)
