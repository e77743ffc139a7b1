"""What the fraud routes read: a transfer's risk, the review queue, the decision counts.

A review's EXPIRED state is derived, never stored: phase 1's sweeper expires holds without
knowing about fraud, so a review still OPEN whose hold expired (or is past its expiry and not
yet swept) reads EXPIRED. Everything here is a read on its own short transaction.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from fintech_core.db.write_behind import Session

STATE = ("CASE WHEN r.state = 'OPEN' AND (t.status = 'EXPIRED' OR (t.status = 'PENDING'"
         " AND h.expires_at <= clock_timestamp())) THEN 'EXPIRED' ELSE r.state END")
_JOINS = ("FROM fraud_reviews r JOIN transfers t ON t.id = r.transfer_id"
          " JOIN holds h ON h.transfer_id = r.transfer_id")


class ReasonOut(BaseModel):
    rule_id: str
    version: int
    verdict: str
    score: int
    reason_code: str


class ShadowOut(BaseModel):
    ruleset: str
    verdict: str
    score: int
    reasons: list[ReasonOut]


class ReviewOut(BaseModel):
    state: str = Field(examples=["OPEN"], description="OPEN, APPROVED, REJECTED or EXPIRED.")
    expires_at: datetime
    decided_by: str | None
    decided_at: datetime | None


class RiskOut(BaseModel):
    ruleset: str
    verdict: str
    score: int
    fallback: str | None = Field(description="budget-exceeded or engine-error when the "
                                 "configured fallback verdict applied instead of the rules.")
    reasons: list[ReasonOut]
    shadow: ShadowOut | None
    review: ReviewOut | None


class ReviewQueueItem(BaseModel):
    transfer_id: UUID
    source_account_id: UUID | None
    destination_account_id: UUID | None
    amount: int
    currency: str
    state: str
    opened_at: datetime
    expires_at: datetime
    reasons: list[str] = Field(description="The reason codes of the rules that fired.")


class DecisionStats(BaseModel):
    total: int
    verdicts: dict[str, int] = Field(description="Decisions per applied verdict.")
    fallbacks: dict[str, int] = Field(description="Decisions where the fallback applied, per "
                                      "kind (budget-exceeded, engine-error).")
    shadow_disagreements: int = Field(description="Decisions whose shadow verdict differs.")


async def risk(conn: Session, transfer_id: UUID) -> RiskOut | None:
    cur = await conn.execute(
        "SELECT d.ruleset, d.verdict, d.score, d.fallback, d.reasons, d.shadow_ruleset,"
        f" d.shadow_verdict, d.shadow_score, d.shadow_reasons, {STATE}, h.expires_at,"
        " r.decided_by, r.decided_at FROM fraud_decisions d"
        " LEFT JOIN fraud_reviews r ON r.transfer_id = d.transfer_id"
        " LEFT JOIN transfers t ON t.id = r.transfer_id"
        " LEFT JOIN holds h ON h.transfer_id = r.transfer_id WHERE d.transfer_id = %s",
        (transfer_id,))
    row = await cur.fetchone()
    if row is None:
        return None
    shadow = (ShadowOut(ruleset=row[5], verdict=row[6], score=row[7], reasons=row[8])
              if row[5] is not None else None)
    review = (ReviewOut(state=row[9], expires_at=row[10], decided_by=row[11],
                        decided_at=row[12]) if row[9] is not None else None)
    return RiskOut(ruleset=row[0], verdict=row[1], score=row[2], fallback=row[3],
                   reasons=row[4], shadow=shadow, review=review)


async def reviews(conn: Session, state: str | None, limit: int) -> list[ReviewQueueItem]:
    cur = await conn.execute(
        f"SELECT * FROM (SELECT r.transfer_id, t.source_id, t.destination_id, t.amount,"
        f" t.currency, {STATE} AS state, r.opened_at, h.expires_at,"
        " (SELECT coalesce(jsonb_agg(x->>'reason_code'), '[]') FROM jsonb_array_elements("
        f"  d.reasons) x) {_JOINS} JOIN fraud_decisions d ON d.transfer_id = r.transfer_id) q"
        " WHERE %(state)s::text IS NULL OR q.state = %(state)s"
        " ORDER BY q.opened_at LIMIT %(limit)s", {"state": state, "limit": limit})
    names = list(ReviewQueueItem.model_fields)
    return [ReviewQueueItem(**dict(zip(names, row, strict=True))) for row in await cur.fetchall()]


async def stats(conn: Session) -> DecisionStats:
    cur = await conn.execute(
        "SELECT verdict, fallback, count(*), count(*) FILTER (WHERE shadow_verdict IS NOT NULL"
        " AND shadow_verdict <> verdict) FROM fraud_decisions GROUP BY verdict, fallback")
    verdicts: dict[str, int] = {}
    fallbacks: dict[str, int] = {}
    disagreements = 0
    for verdict, fallback, count, disagree in await cur.fetchall():
        verdicts[verdict] = verdicts.get(verdict, 0) + count
        if fallback is not None:
            fallbacks[fallback] = fallbacks.get(fallback, 0) + count
        disagreements += disagree
    return DecisionStats(total=sum(verdicts.values()), verdicts=verdicts, fallbacks=fallbacks,
                         shadow_disagreements=disagreements)
