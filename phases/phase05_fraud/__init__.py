"""Phase 5 — Fraud: rules before ML, a decision within a latency budget, a review queue.

What this phase declares (filled in as the slice lands):
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
  a labelled synthetic history, live vs shadow verdicts on the stored decisions.
- bench part "fraud": CPU ms and p99 per transfer, phase 4 vs 5, and p99 with the engine
  slowed past its budget (fraud/bench.py);
- lab 6: write the velocity rule that catches an account takeover, proved on the backtest.
"""

from pathlib import Path

from fintech_core.fraud import engine, hold_routes, steps, transfer_route
from fintech_core.fraud import routes as fraud_routes
from fintech_core.fraud.bench import FraudBench
from fintech_core.fraud.cli import app as fraud_cli
from fintech_core.fraud.problems import PROBLEMS as FRAUD_PROBLEMS
from fintech_core.fraud.sql import SqlFraud
from fintech_core.fraud.tables import TABLES as FRAUD_TABLES
from fintech_core.labs.registry import LabSpec
from fintech_core.phase import CliEntry, Phase

PHASE = Phase(
    number=5,
    slug="fraud",
    title="Fraud: rules before ML, a decision within a budget, a review queue",
    folder=Path(__file__).resolve().parent,
    routers=(fraud_routes.router, transfer_route.router, hold_routes.router),
    replaces_routes=frozenset({transfer_route.ROUTE, *hold_routes.ROUTES}),
    resources={engine.RESOURCE: engine.build},
    transfer_steps=steps.TRANSFER_STEPS,
    extensions={steps.EXTENSION: SqlFraud},
    features=frozenset({"fraud", "fraud-review", "fraud-shadow"}),
    problems=FRAUD_PROBLEMS,
    tables=FRAUD_TABLES,
    cli=(CliEntry("fraud", fraud_cli),),
    bench_parts=(FraudBench,),
    labs=(LabSpec(6, "velocity-rule", "Write a velocity rule that passes a backtest",
                  "lab06_velocity_rule", "velocity_rule.py", minutes=45),),
)
