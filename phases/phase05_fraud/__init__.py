"""Phase 5 — Fraud: rules before ML, a decision within a latency budget, a review queue.

What this phase declares (filled in as the slice lands):
- problems: transfer-declined (a fraud block, recorded as a FAILED transfer);
- CLI `fcl fraud` (rules, backtest): the rule sets offline, precision/recall on a labelled
  synthetic history.
- migration p5_0002: fraud_flags (the async rules' flags, one per event and rule);
- worker `fcl fraud-async`: the async rules, a phase-2 consumer of the transfer events that
  flags fan-out, structuring and mules, freezes on a severe one, and emits fraud.* events;
- chaos: faults fraud-engine-slow and fraud-engine-failing, a reviewer during the workload, and
  the hooks fraud-decisions and fraud-reviews.
- drills (drills/scenarios/fraud_*.py) and their naive side (naive/fraud.py, naive/fraud_after.py):
  slow-fraud-check, mule-async-only, rule-straight-to-live, review-queue.
- lab 6: write the velocity rule that catches an account takeover, proved on the backtest.
"""

from pathlib import Path

from fintech_core.drills.scenarios.fraud_budget import SLOW_FRAUD_CHECK
from fintech_core.drills.scenarios.fraud_mule import MULE_ASYNC_ONLY
from fintech_core.drills.scenarios.fraud_review import REVIEW_QUEUE
from fintech_core.drills.scenarios.fraud_shadow import RULE_STRAIGHT_TO_LIVE
from fintech_core.fraud import async_cli, drill_knobs
from fintech_core.fraud import engine as fraud_engine
from fintech_core.fraud import steps as fraud_steps
from fintech_core.fraud.chaos import CHAOS_HOOKS
from fintech_core.fraud.chaos_faults import CHAOS_FAULTS
from fintech_core.fraud.cli import app as fraud_cli
from fintech_core.fraud.problems import PROBLEMS as FRAUD_PROBLEMS
from fintech_core.fraud.sql import SqlFraud
from fintech_core.fraud.tables import TABLES as FRAUD_TABLES
from fintech_core.labs.registry import LabSpec
from fintech_core.naive import fraud as naive_fraud
from fintech_core.naive import fraud_after as naive_fraud_after
from fintech_core.phase import CliEntry, Phase, WorkerSpec

PHASE = Phase(
    number=5,
    slug="fraud",
    title="Fraud: rules before ML, a decision within a budget, a review queue",
    folder=Path(__file__).resolve().parent,
    problems=FRAUD_PROBLEMS,
    # The async rules (fraud/async_rules.py): a consumer of the transfer events, beside phase
    # 2's relay and consumers; `fcl up` starts it.
    workers=(WorkerSpec("fraud-async", ("fraud-async",)),),
    cli=(CliEntry("fraud", fraud_cli), CliEntry("fraud-async", async_cli.consume)),
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
    # Chaos: the engine slow or failing (its drill knobs, switched at run time through
    # /_drill/fraud-engine, drill mode only), a reviewer working the queue meanwhile, and the
    # hooks that judge decisions and review holds (fraud/chaos_faults.py, fraud/chaos.py).
    routers=(drill_knobs.router,),
    chaos_faults=CHAOS_FAULTS,
    chaos_hooks=CHAOS_HOOKS,
    labs=(LabSpec(6, "velocity-rule", "Write a velocity rule that passes a backtest",
                  "lab06_velocity_rule", "velocity_rule.py", minutes=45),),
)
