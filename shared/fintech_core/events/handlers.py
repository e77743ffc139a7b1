"""The two consumers of phase 2. Each effect is plain SQL inside the framework's transaction.

- activity: the account-activity read model (statement lines per account and bucket), built from
  events only and verified against the ledger's postings (`fcl events verify`);
- audit: every event, once, with its correlation id: the story of a transfer without the API.
"""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from fintech_core.events.contracts import Contract, EntryV1, Envelope


class ActivityProjection:
    name = "activity"

    def apply(self, conn: psycopg.Connection, envelope: Envelope, event: Contract,
              headers: dict[str, str]) -> None:
        entry: EntryV1 | None = getattr(event, "entry", None)
        if entry is None:  # payment.* / payout.*: the ledger's transfer.* event carries the money
            return
        lines: dict[tuple[UUID, str, str], int] = defaultdict(int)
        for p in entry.postings:
            lines[(p.account_id, p.bucket, p.currency)] += p.amount
        rows = [(a, entry.entry_id, b, amount, c, event.transfer_id,  # type: ignore[attr-defined]
                 envelope.event_id, envelope.event_type)
                for (a, b, c), amount in lines.items() if amount != 0]
        # ON CONFLICT on the entry, not the event: while a schema change is rolled out one ledger
        # change may be announced as v1 and v2 (two event ids); it is projected once.
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO account_activity (account_id, entry_id, bucket, amount, currency,"
                " transfer_id, event_id, event_type) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (entry_id, account_id, bucket) DO NOTHING", rows)


class AuditTrail:
    name = "audit"

    def apply(self, conn: psycopg.Connection, envelope: Envelope, event: Contract,
              headers: dict[str, str]) -> None:
        conn.execute(
            "INSERT INTO audit_trail (event_id, event_type, aggregate_type, aggregate_id,"
            " correlation_id, payload, occurred_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (envelope.event_id, envelope.event_type, envelope.aggregate_type,
             envelope.aggregate_id, headers.get("correlation_id"),
             Jsonb(event.model_dump(mode="json")), envelope.occurred_at))
