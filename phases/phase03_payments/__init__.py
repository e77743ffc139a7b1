"""Phase 3 — Payments: a provider we do not control, signed webhooks, a saga that survives
timeouts, and reconciliation.

What this phase adds to phases 0..2 (and nothing else); the table in its README is generated
from this object and checked by a test:
- migrations: payments (pay-ins), payouts (+ payout_steps, the saga log), refunds,
  payment_attempts (every provider call), payment_state_history (every state, by trigger),
  provider_inbox (webhook dedupe, in the effect's transaction), webhook_rejections (counters);
  a trigger keeps every state machine forward-only;
- routes: POST /payments, GET /payments/{id}, POST /payments/{id}/refunds, POST /payouts,
  GET /payouts/{id}, POST /webhooks/{provider}, GET /payments/webhooks/stats;
- unit-of-work extension "payments" (the slice's SQL repository);
- workers (started by `fcl up`): the provider simulator (`fcl provider serve`, its own database
  and port, health-checked over HTTP) and the payments worker (saga resume, status polls);
- commands `fcl provider ...` (the simulator's knobs) and
  `fcl payments worker | reconcile --date | webhooks`;
- problems of the payments slice (webhook-signature-invalid, refund-exceeds-payment, ...).
- chaos: provider faults (timeouts before/after, duplicate, reordered and lost webhooks) with a
  payments workload beside the bank's, and the hooks that judge them after reconciliation
  (payments/chaos.py, payments/chaos_faults.py);
- the payments bench part: webhook ingestion rate, pay-in end to end, and the transfer rate of
  phase 3 over phase 2's in the same run (payments/bench.py).
The transfer pipeline is untouched: payments are not on the POST /transfers path.
"""

from pathlib import Path

from fintech_core.drills.scenarios.payments import (
    FORGED_SIGNATURE,
    LOST_WEBHOOK,
    PROVIDER_TIMEOUT_AFTER_CHARGE,
    WEBHOOK_DELIVERED_THRICE,
    WEBHOOKS_OUT_OF_ORDER,
)
from fintech_core.drills.scenarios.payouts import CRASH_BETWEEN_HOLD_AND_PROVIDER, PAYOUT_DECLINED
from fintech_core.labs.registry import LabSpec
from fintech_core.naive import payments as naive_payments
from fintech_core.naive.webhook_divert import NaiveWebhookDivert
from fintech_core.payments import cli as payments_cli
from fintech_core.payments import routes as payments_routes
from fintech_core.payments.adapters.sql import SqlPayments
from fintech_core.payments.bench import PaymentsBench
from fintech_core.payments.chaos import CHAOS_HOOKS
from fintech_core.payments.chaos_faults import CHAOS_FAULTS
from fintech_core.payments.drive import FAULT_POINTS
from fintech_core.payments.problems import PROBLEMS
from fintech_core.phase import CliEntry, Phase, WorkerSpec
from fintech_core.provider_sim.cli import app as provider_cli

PHASE = Phase(
    number=3,
    slug="payments",
    title="Payments: provider adapters, signed webhooks, payout saga, reconciliation",
    folder=Path(__file__).resolve().parent,
    routers=(payments_routes.router, payments_routes.webhook_router),
    # The drills' naive side: payments without keys, signatures, inbox or saga, and the
    # middleware that hands it the simulator's webhooks for its own (naive-) references.
    naive_routers=(naive_payments.router,),
    naive_middleware=(NaiveWebhookDivert,),
    fault_points={**FAULT_POINTS, **naive_payments.FAULT_POINTS},
    extensions={"payments": SqlPayments},
    features=frozenset({"payments", "provider-adapters", "signed-webhooks", "webhook-inbox",
                        "payout-saga", "reconciliation"}),
    # The simulator first: it holds a port and `up` waits for its GET /health, so the payments
    # worker's first polls find it answering.
    workers=(WorkerSpec("provider", ("provider", "serve"), port_setting="provider_port",
                        host_setting="provider_host", health_path="/health"),
             WorkerSpec("payments", ("payments", "worker"))),
    cli=(CliEntry("provider", provider_cli), CliEntry("payments", payments_cli.app)),
    drills=(
        PROVIDER_TIMEOUT_AFTER_CHARGE,    # 1. the provider charged, its answer timed out
        WEBHOOK_DELIVERED_THRICE,         # 2. one webhook, three deliveries
        WEBHOOKS_OUT_OF_ORDER,            # 3. refunded arrives before succeeded
        FORGED_SIGNATURE,                 # 4. a webhook we cannot verify
        LOST_WEBHOOK,                     # 5. never delivered: reconciliation finds it
        CRASH_BETWEEN_HOLD_AND_PROVIDER,  # 6. the payout saga resumes after a crash
        PAYOUT_DECLINED,                  # 7. the payout fails after acceptance: hold voided
    ),
    problems=PROBLEMS,
    chaos_hooks=CHAOS_HOOKS,
    chaos_faults=CHAOS_FAULTS,
    bench_parts=(PaymentsBench,),
    labs=(LabSpec(4, "signed-webhooks", "Verify a signed webhook and apply it once",
                  "lab04_signed_webhooks", "signed_webhooks.py", minutes=50),),
)
