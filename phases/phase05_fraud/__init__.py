"""Phase 5 — Fraud: rules before ML, a decision within a latency budget, a review queue.

What this phase declares:
- resources: "fraud", the process-wide engine (live and shadow rule sets, the Redis feature
  store, the time budget and its fallback; fraud/engine.py);
- transfer pipeline: `check_fraud` right before `post_ledger` (allow; review: the transfer
  becomes a phase-1 hold; block: a FAILED transfer-declined), `record_fraud_decision` last (a
  record step: a declined transfer keeps its decision too);
- extension "fraud": decisions and the review queue, written behind in the transfer's
  transaction (fraud/sql.py); tables fraud_decisions, fraud_reviews (migration p5_0001);
- routes: the review queue (GET /fraud/reviews, POST .../approve|reject), GET
  /fraud/decisions/stats, GET /transfers/{id} with the decision for fraud:read callers, and
  phase 1's post/void of a hold refused while the hold is under review;
- problems: transfer-declined, review-not-found, review-not-open, transfer-under-review;
- CLI `fcl fraud` (rules, backtest, shadow-report): the rule sets offline, precision/recall on
  a labelled synthetic history, live vs shadow verdicts on the stored decisions;
- migration p5_0002: fraud_flags (the async rules' flags, one per event and rule);
- worker `fcl fraud-async`: the async rules, a phase-2 consumer of the transfer events that
  flags fan-out, structuring and mules, freezes on a severe one, and emits fraud.* events;
- chaos: faults fraud-engine-slow and fraud-engine-failing (the engine's drill knobs switched
  at run time, /_drill/fraud-engine in drill mode), a reviewer during the workload, and the
  hooks fraud-decisions and fraud-reviews;
- drills (drills/scenarios/fraud_*.py) and their naive side (naive/fraud.py, naive/fraud_after.py):
  slow-fraud-check, mule-async-only, rule-straight-to-live, review-queue;
- bench part "fraud": CPU ms and p99 per transfer, phase 4 vs 5, and p99 with the engine
  slowed past its budget (fraud/bench.py);
- lab 6: write the velocity rule that catches an account takeover, proved on the backtest.
"""

from pathlib import Path

from fintech_core.drills.scenarios.fraud_budget import SLOW_FRAUD_CHECK
from fintech_core.drills.scenarios.fraud_mule import MULE_ASYNC_ONLY
from fintech_core.drills.scenarios.fraud_review import REVIEW_QUEUE
from fintech_core.drills.scenarios.fraud_shadow import RULE_STRAIGHT_TO_LIVE
from fintech_core.fraud import async_cli, drill_knobs, engine, hold_routes, steps, transfer_route
from fintech_core.fraud import routes as fraud_routes
from fintech_core.fraud.bench import FraudBench
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
    # /_drill/fraud-engine (drill_knobs): the engine slow or failing at run time, drill mode only.
    routers=(fraud_routes.router, transfer_route.router, hold_routes.router, drill_knobs.router),
    replaces_routes=frozenset({transfer_route.ROUTE, *hold_routes.ROUTES}),
    resources={engine.RESOURCE: engine.build},
    transfer_steps=steps.TRANSFER_STEPS,
    extensions={steps.EXTENSION: SqlFraud},
    features=frozenset({"fraud", "fraud-review", "fraud-shadow", "fraud-async-rules"}),
    problems=FRAUD_PROBLEMS,
    tables=FRAUD_TABLES,
    # The async rules (fraud/async_rules.py): a consumer of the transfer events, beside phase
    # 2's relay and consumers; `fcl up` starts it.
    workers=(WorkerSpec("fraud-async", ("fraud-async",)),),
    cli=(CliEntry("fraud", fraud_cli), CliEntry("fraud-async", async_cli.consume)),
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
    chaos_faults=CHAOS_FAULTS,
    chaos_hooks=CHAOS_HOOKS,
    bench_parts=(FraudBench,),
    labs=(LabSpec(6, "velocity-rule", "Write a velocity rule that passes a backtest",
                  "lab06_velocity_rule", "velocity_rule.py", minutes=45),),
)
