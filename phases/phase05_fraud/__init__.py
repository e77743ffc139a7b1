"""Phase 5 — Fraud: rules before ML, a decision within a latency budget, a review queue.

What this phase declares (filled in as the slice lands):
- problems: transfer-declined (a fraud block, recorded as a FAILED transfer).
- migration p5_0002: fraud_flags (the async rules' flags, one per event and rule);
- worker `fcl fraud-async`: the async rules, a phase-2 consumer of the transfer events that
  flags fan-out, structuring and mules, freezes on a severe one, and emits fraud.* events.
"""

from pathlib import Path

from fintech_core.fraud import async_cli
from fintech_core.fraud.problems import PROBLEMS as FRAUD_PROBLEMS
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
    cli=(CliEntry("fraud-async", async_cli.consume),),
)
