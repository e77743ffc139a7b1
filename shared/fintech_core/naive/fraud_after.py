"""THE DELIBERATELY BROKEN FRAUD BASELINE, after the fact (see naive/fraud.py): the async rules
as a nightly job that flags an account whose money is already gone, and a review queue where
"reject" can only try to pull back money that moved when it was flagged. Do not copy any of it.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import JSONResponse

from fintech_core.api.deps import ContainerDep
from fintech_core.naive.fraud import connect, move
from fintech_core.naive.routes import NAIVE_IS_PUBLIC

# The nightly job's mule rule: an account credited and then paying a first-time beneficiary.
MULE_SCAN = """
INSERT INTO naive_fraud_flags (account_id, reason)
SELECT DISTINCT o.from_id, 'MULE_IN_OUT' FROM naive_fraud_transfers o
JOIN naive_fraud_transfers i ON i.to_id = o.from_id AND i.moved AND i.created_at < o.created_at
WHERE o.moved AND o.created_at > now() - interval '1 hour'
  AND NOT EXISTS (SELECT 1 FROM naive_fraud_transfers p WHERE p.from_id = o.from_id
                  AND p.to_id = o.to_id AND p.moved AND p.created_at < o.created_at)
ON CONFLICT (account_id) DO NOTHING RETURNING account_id"""


def router() -> APIRouter:
    r = APIRouter(prefix="/naive/fraud", tags=["naive baseline (deliberately broken)"],
                  dependencies=[Depends(NAIVE_IS_PUBLIC)])

    @r.post("/scan")
    def scan(c: ContainerDep) -> dict[str, object]:
        """The async rules, as a batch job: flags accounts whose money is already gone."""
        with connect(c.database_url) as db:
            flagged = [row[0] for row in db.execute(MULE_SCAN).fetchall()]
        return {"flagged": flagged}

    @r.post("/reviews/{transfer_id}/{decision}", response_model=None)
    def decide(transfer_id: int, decision: str, c: ContainerDep) -> dict[str, object] | JSONResponse:
        if decision not in ("approve", "reject"):
            raise HTTPException(404, "no such decision")
        with connect(c.database_url) as db:
            row = db.execute("SELECT t.from_id, t.to_id, t.amount FROM naive_fraud_reviews r"
                             " JOIN naive_fraud_transfers t ON t.id = r.transfer_id"
                             " WHERE r.transfer_id = %s AND r.state = 'OPEN'",
                             (transfer_id,)).fetchone()
            if row is None:
                raise HTTPException(404, "no open review")
            outcome = "kept"
            if decision == "reject":  # pull the money back from wherever it went, if it's there
                try:
                    move(db, row[1], row[0], row[2])
                    outcome = "reversed"
                except HTTPException:
                    outcome = "reversal-failed"
            db.execute("UPDATE naive_fraud_reviews SET state = %s, outcome = %s,"
                       " decided_at = clock_timestamp() WHERE transfer_id = %s",
                       ("APPROVED" if decision == "approve" else "REJECTED", outcome, transfer_id))
        if outcome == "reversal-failed":
            return JSONResponse({"error": "the money was already spent onward"}, status_code=409)
        return {"ok": True, "outcome": outcome}

    return r
