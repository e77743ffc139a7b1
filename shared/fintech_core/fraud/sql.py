"""Decisions and the review queue in PostgreSQL: the unit-of-work extension "fraud".

Writes on the request path are *held* (db/write_behind.py) as row arrays: they travel with the
transfer's own INSERTs in one statement, and a group-commit batch writes the decisions of all its
transfers in one INSERT (like limits/amounts.py's add_outgoing, transfers/sql.py's add). Their
foreign keys (decision -> transfer, review -> decision) are checked at the end of that statement,
when every row exists. Review state changes run at once (`execute`): the approve/reject routes
read their answer, and the review guard trigger (p5_0001) must see the new state before the hold
is posted or voided in the same transaction.
"""

from __future__ import annotations

import json
from datetime import datetime
from uuid import UUID

from fintech_core.db.write_behind import Session
from fintech_core.fraud.model import Decision

_DECISION = (
    "INSERT INTO fraud_decisions (transfer_id, ruleset, verdict, score, reasons, fallback,"
    " shadow_ruleset, shadow_verdict, shadow_score, shadow_reasons, decided_at)"
    " SELECT x.t, x.r, x.v, x.s, x.j::jsonb, x.f, x.sr, x.sv, x.ss, x.sj::jsonb, x.d"
    " FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::int[], %s::text[], %s::text[],"
    " %s::text[], %s::text[], %s::int[], %s::text[], %s::timestamptz[])"
    " AS x(t, r, v, s, j, f, sr, sv, ss, sj, d)")
_REVIEW = (
    "INSERT INTO fraud_reviews (transfer_id, opened_at, expires_at)"
    " SELECT x.t, n.t, n.t + make_interval(secs => x.s)"
    " FROM unnest(%s::uuid[], %s::int[]) AS x(t, s), (SELECT clock_timestamp() AS t) n")


def reasons_json(decision: Decision) -> str:
    return json.dumps([{"rule_id": h.rule_id, "version": h.version, "verdict": h.verdict.value,
                        "score": h.score, "reason_code": h.reason_code} for h in decision.hits])


class SqlFraud:
    def __init__(self, conn: Session) -> None:
        self.conn = conn

    async def add_decision(self, transfer_id: UUID, live: Decision, shadow: Decision | None,
                           decided_at: datetime) -> None:
        await self.conn.hold_rows("fraud_decisions", _DECISION, (
            [transfer_id], [live.ruleset], [live.verdict.value], [live.score],
            [reasons_json(live)], [live.fallback],
            [shadow.ruleset if shadow else None], [shadow.verdict.value if shadow else None],
            [shadow.score if shadow else None], [reasons_json(shadow) if shadow else None],
            [decided_at]))

    async def open_review(self, transfer_id: UUID, ttl_seconds: int) -> None:
        # The hold's expiry is computed the same way (ledger/adapters/transfers.py add_hold).
        await self.conn.hold_rows("fraud_reviews", _REVIEW, ([transfer_id], [ttl_seconds]))

    async def review_state(self, transfer_id: UUID, lock: bool = False) -> str | None:
        """The stored state (OPEN, APPROVED, REJECTED), None without a review. `lock` holds the
        row to COMMIT, so two reviewers deciding at once are served one after the other."""
        cur = await self.conn.execute(
            "SELECT state FROM fraud_reviews WHERE transfer_id = %s"
            + (" FOR UPDATE" if lock else ""), (transfer_id,))
        row = await cur.fetchone()
        return str(row[0]) if row else None

    async def close_review(self, transfer_id: UUID, state: str, by: str) -> bool:
        """OPEN -> APPROVED or REJECTED; False (nothing written) when it was not OPEN."""
        cur = await self.conn.execute(
            "UPDATE fraud_reviews SET state = %s, decided_by = %s, decided_at = clock_timestamp()"
            " WHERE transfer_id = %s AND state = 'OPEN' RETURNING transfer_id",
            (state, by, transfer_id))
        return await cur.fetchone() is not None
