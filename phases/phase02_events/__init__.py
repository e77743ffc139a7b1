"""Phase 2 — Events: who else needs to know, off the request path and never lost.

What this phase adds to phases 0..1 (and nothing else); the table in its README is generated
from this object and checked by a test:
- migrations: outbox (+ a NOTIFY that wakes the relay at COMMIT), processed_events,
  dead_letters, and two read models fed only by events: account_activity and audit_trail;
  then (p2_0002) consumer offsets and partition leases (consumer_partitions, consumer_members)
  and the topic incarnation they refer to (event_topics), in place of broker consumer groups;
- SQLModel classes for dead_letters and the two read models (checked against the migration),
  served by GET /accounts/{id}/activity and GET /transfers/{id}/story;
- transfer pipeline: write_outbox, appended after record_ledger_transfer (Append);
- unit-of-work extensions: "outbox", "event_reads" (the read models' queries), and "ledger"
  replaced by the same ledger wrapped so that hold post/void/expiry and reversals write their
  event in their own transaction;
- workers (started by `fcl up`, not by the API): the relay and the consumers; commands
  `fcl relay`, `fcl consume` and `fcl events ...`; the events bench part; lab 3;
- chaos: faults on the async path (relay kill between publish and mark, broker stop, consumer
  kill mid-batch, poison message) and the hooks that judge it from PostgreSQL (events/chaos.py).
"""

from pathlib import Path

from fintech_core.events import cli as events_cli
from fintech_core.events import routes as events_routes
from fintech_core.events.bench import EventsBench
from fintech_core.events.chaos import CHAOS_HOOKS
from fintech_core.events.chaos_faults import CHAOS_FAULTS
from fintech_core.events.outbox import SqlOutbox, sql_outbox_ledger
from fintech_core.events.read_models import AccountActivity, AuditTrail, DeadLetter
from fintech_core.events.reads import SqlEventReads
from fintech_core.events.steps import EVENT_STEPS
from fintech_core.events.yardstick import EVENTS_YARDSTICK
from fintech_core.labs.registry import LabSpec
from fintech_core.phase import CliEntry, Phase, WorkerSpec

PHASE = Phase(
    number=2,
    slug="events",
    title="Events: transactional outbox, relay, idempotent consumers, DLQ",
    folder=Path(__file__).resolve().parent,
    routers=(events_routes.router,),
    transfer_steps=EVENT_STEPS,
    extensions={"ledger": sql_outbox_ledger, "outbox": SqlOutbox, "event_reads": SqlEventReads},
    features=frozenset({"events", "outbox", "relay", "idempotent-consumers", "dlq",
                        "read-models"}),
    workers=(WorkerSpec("relay", ("relay",)), WorkerSpec("consume", ("consume",))),
    cli=(CliEntry("events", events_cli.app), CliEntry("relay", events_cli.relay),
         CliEntry("consume", events_cli.consume)),
    chaos_hooks=CHAOS_HOOKS,
    chaos_faults=CHAOS_FAULTS,
    bench_parts=(EventsBench,),
    yardstick=EVENTS_YARDSTICK,
    labs=(LabSpec(3, "idempotent-consumer", "An idempotent consumer with a dead-letter queue",
                  "lab03_idempotent_consumer", "idempotent_consumer.py", minutes=50),),
    tables=(AccountActivity, AuditTrail, DeadLetter),
)
