"""Phase 5 — Fraud: rules before ML, a decision within a latency budget, a review queue.

What this phase declares (filled in as the slice lands):
- problems: transfer-declined (a fraud block, recorded as a FAILED transfer);
- CLI `fcl fraud` (rules, backtest): the rule sets offline, precision/recall on a labelled
  synthetic history;
- lab 6: write the velocity rule that catches an account takeover, proved on the backtest.
"""

from pathlib import Path

from fintech_core.fraud.cli import app as fraud_cli
from fintech_core.fraud.problems import PROBLEMS as FRAUD_PROBLEMS
from fintech_core.labs.registry import LabSpec
from fintech_core.phase import CliEntry, Phase

PHASE = Phase(
    number=5,
    slug="fraud",
    title="Fraud: rules before ML, a decision within a budget, a review queue",
    folder=Path(__file__).resolve().parent,
    problems=FRAUD_PROBLEMS,
    cli=(CliEntry("fraud", fraud_cli),),
    labs=(LabSpec(6, "velocity-rule", "Write a velocity rule that passes a backtest",
                  "lab06_velocity_rule", "velocity_rule.py", minutes=45),),
)
