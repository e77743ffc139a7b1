"""Phase 0 — the modular monolith: hexagonal Accounts, transfers as resources, Idempotency-Key.

What this phase adds to the core app (and nothing else):
- migrations: accounts, transfers, idempotency_keys, and the naive baseline's table;
- routes: accounts, deposits, transfers, problem types;
- the base transfer pipeline: lock → check currency/status/funds → move balances → record.
"""

from pathlib import Path

from fintech_core.api.routes import accounts, problems, transfers
from fintech_core.phase import Phase
from fintech_core.service.pipeline import Append
from fintech_core.service.transfer_steps import PHASE0_STEPS

PHASE = Phase(
    number=0,
    slug="modular-monolith",
    title="Modular monolith: accounts, transfers, Idempotency-Key",
    folder=Path(__file__).resolve().parent,
    routers=(accounts.router, transfers.router, problems.router),
    transfer_steps=tuple(Append(step) for step in PHASE0_STEPS),
    features=frozenset({"accounts", "transfers", "idempotency-key", "row-locks", "balance-column"}),
)
