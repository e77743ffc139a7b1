"""Phase 0 — the modular monolith: hexagonal Accounts, transfers as resources, Idempotency-Key.

What this phase adds to the core (and nothing else); the table in its README is generated from
this object and checked by a test:
- migrations: accounts, transfers, idempotency_keys, and the naive baseline's table;
- routes: accounts, deposits, transfers, problem types;
- the base transfer pipeline: lock → check currency/status/funds → move balances → record;
- problem types of the accounts, transfers and idempotency slices;
- the eight drills of the article series, and lab 1.
"""

from pathlib import Path

from fintech_core.accounts import routes as accounts
from fintech_core.accounts.problems import PROBLEMS as ACCOUNT_PROBLEMS
from fintech_core.api.routes import problems
from fintech_core.drills.scenarios.concurrency import CONCURRENT_RETRIES, LAST_FUNDS
from fintech_core.drills.scenarios.crashes import DB_RESTART, KILLED_MID_TRANSFER
from fintech_core.drills.scenarios.lost_response import KEY_REUSE, NEW_KEY_ON_RETRY, RESPONSE_LOST
from fintech_core.drills.scenarios.mail import SLOW_MAIL
from fintech_core.idempotency.problems import PROBLEMS as IDEMPOTENCY_PROBLEMS
from fintech_core.labs.registry import LabSpec
from fintech_core.phase import Phase, SitePage
from fintech_core.settings import REPO_ROOT
from fintech_core.transfers import routes as transfers
from fintech_core.transfers.facts import TRANSFERS_EXPLAIN_BALANCES
from fintech_core.transfers.pipeline import Append
from fintech_core.transfers.problems import PROBLEMS as TRANSFER_PROBLEMS
from fintech_core.transfers.steps import PHASE0_STEPS
from fintech_core.transfers.yardstick import PHASE0_YARDSTICK

PHASE = Phase(
    number=0,
    slug="modular-monolith",
    title="Modular monolith: accounts, transfers, Idempotency-Key",
    folder=Path(__file__).resolve().parent,
    routers=(accounts.router, transfers.router, problems.router),
    transfer_steps=tuple(Append(step) for step in PHASE0_STEPS),
    features=frozenset({"accounts", "transfers", "idempotency-key", "row-locks", "balance-column"}),
    problems={**IDEMPOTENCY_PROBLEMS, **ACCOUNT_PROBLEMS, **TRANSFER_PROBLEMS},
    drills=(
        RESPONSE_LOST,        # 1. response lost after commit; retry with the same key
        NEW_KEY_ON_RETRY,     # 2. the same, but the client mints a new key on retry
        CONCURRENT_RETRIES,   # 3. two concurrent retries with the same key
        KEY_REUSE,            # 4. same key, different amount
        KILLED_MID_TRANSFER,  # 5. process killed mid-transfer, then retried
        LAST_FUNDS,           # 6. two transfers racing for the last funds
        SLOW_MAIL,            # 7. slow or failing mail server on the request path vs off it
        DB_RESTART,           # 8. database restart during a burst of transfers
    ),
    money_facts=TRANSFERS_EXPLAIN_BALANCES,
    yardstick=PHASE0_YARDSTICK,
    labs=(LabSpec(1, "idempotency-key", "Make the naive transfer idempotent",
                  "lab01_idempotency_key", "idempotent_transfer.py", minutes=45),),
    site_pages=(SitePage("Performance", REPO_ROOT / "shared/fintech_core/bench/README.md"),),
)
