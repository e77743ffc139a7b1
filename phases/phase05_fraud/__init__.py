"""Phase 5 — Fraud: rules before ML, a decision within a latency budget, a review queue.

What this phase declares (filled in as the slice lands):
- problems: transfer-declined (a fraud block, recorded as a FAILED transfer).
- drills (drills/scenarios/fraud_*.py) and their naive side (naive/fraud.py, naive/fraud_after.py):
  slow-fraud-check, mule-async-only, rule-straight-to-live, review-queue.
"""

from pathlib import Path

from fintech_core.drills.scenarios.fraud_budget import SLOW_FRAUD_CHECK
from fintech_core.drills.scenarios.fraud_mule import MULE_ASYNC_ONLY
from fintech_core.drills.scenarios.fraud_review import REVIEW_QUEUE
from fintech_core.drills.scenarios.fraud_shadow import RULE_STRAIGHT_TO_LIVE
from fintech_core.fraud import engine as fraud_engine
from fintech_core.fraud import steps as fraud_steps
from fintech_core.fraud.problems import PROBLEMS as FRAUD_PROBLEMS
from fintech_core.fraud.sql import SqlFraud
from fintech_core.fraud.tables import TABLES as FRAUD_TABLES
from fintech_core.naive import fraud as naive_fraud
from fintech_core.naive import fraud_after as naive_fraud_after
from fintech_core.phase import Phase

PHASE = Phase(
    number=5,
    slug="fraud",
    title="Fraud: rules before ML, a decision within a budget, a review queue",
    folder=Path(__file__).resolve().parent,
    problems=FRAUD_PROBLEMS,
    # TEMPORARY (fraud-drills): the request path's wiring until fraud-sync's manifest lands.
    resources={fraud_engine.RESOURCE: fraud_engine.build},
    transfer_steps=fraud_steps.TRANSFER_STEPS,
    extensions={fraud_steps.EXTENSION: SqlFraud},
    tables=FRAUD_TABLES,
    # The drills' naive side: a fraud check with no budget, the candidate rule set straight to
    # live, "review" as flag-and-let-through, and the mule rule only as a nightly job.
    naive_routers=(naive_fraud.router, naive_fraud_after.router),
    drills=(
        SLOW_FRAUD_CHECK,       # 1. the engine is slow: the budget cuts the wait, the fallback counted
        MULE_ASYNC_ONLY,        # 2. in, then straight out: the sync rule blocks what async sees late
        RULE_STRAIGHT_TO_LIVE,  # 3. the candidate rule set live vs in shadow: nobody held
        REVIEW_QUEUE,           # 4. review is a hold: reject voids it, approve posts it once
    ),
)
