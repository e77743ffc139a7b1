"""Phase 2's chaos hooks: the async path's invariants, judged from PostgreSQL after the run.

Declared in this order, which matters: the first waits for the backlog to drain, the others
judge the drained state. Rows are scoped to the run (the chaos database is reused).

- events-drained: nothing unpublished or unprocessed, within `drain_bound_s` of the run's end
  and of every broker return (measured by broker-stop);
- events-published: every committed transfer announced, every event published at least once;
- events-applied-once: each consumer processed each event, and each processed event has its
  effect and no effect lacks its processed event (processed_events' key forbids twice);
- events-read-models: the read models verify against the ledger (`fcl events verify`);
- events-dlq: the dead letters are exactly the injected poison, dead-lettered by every consumer.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from fintech_core.chaos.env import ChaosEnv
from fintech_core.chaos.hooks import HookResult
from fintech_core.events import chaos_support as sup
from fintech_core.events import ops
from fintech_core.events.chaos_tap import POISON_HEADER, Tap
from fintech_core.events.registry import CONSUMER_NAMES

# A consumer's effect rows, by the event id they carry, for the once-and-only-once check.
EFFECTS = {"audit": "audit_trail", "activity": "account_activity"}
# Which processed events must have an effect row: activity projects ledger entries only (a
# payment.* or payout.* event of phase 3 carries none: its transfer.* event carries the money).
EFFECT_OF = {"activity": " AND EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = p.event_id"
                         " AND o.payload ? 'entry')"}


def _result(name: str, problems: list[str], ok: str, figures: Mapping[str, object]) -> HookResult:
    if problems:
        return HookResult(name, "violation", "; ".join(problems)[:600], dict(figures))
    return HookResult(name, "ok", ok, dict(figures))


def events_drained(env: ChaosEnv) -> HookResult:
    bound, began = env.options.get("drain_bound_s", 120.0), time.monotonic()
    drained = sup.wait_drained(env, sup.last_seq(env), bound)
    broker = env.measures.get("events.broker_drains_s", [])
    figures = {"drain_after_run_s": sup.elapsed(began), "drain_after_broker_returned_s": broker,
               "drain_bound_s": bound}
    problems = [] if drained else [f"backlog not drained {bound:.0f} s after the run"]
    problems += [f"{n} broker returns not drained within {bound:.0f} s"
                 for n in [broker.count(None)] if n]
    return _result("events-drained", problems, "backlog drained", figures)


def events_published(env: ChaosEnv) -> HookResult:
    with sup.connect(env) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM transfers t WHERE t.created_at >= %(s)s"
            "   AND t.status <> 'FAILED' AND NOT EXISTS (SELECT 1 FROM outbox o"
            "   WHERE o.payload ->> 'transfer_id' = t.id::text)),"
            " (SELECT count(*) FROM outbox WHERE created_at >= %(s)s AND published_at IS NULL),"
            " (SELECT count(*) FROM outbox WHERE created_at >= %(s)s),"
            " (SELECT coalesce(sum(publish_count), 0) FROM outbox WHERE created_at >= %(s)s)",
            {"s": sup.since(env)}).fetchone()
    assert row is not None
    unannounced, unpublished, events, marks = (int(v) for v in row)
    figures: dict[str, object] = {"events": events, "publications_marked": marks,
                                  "sent_by_crashed_relays": env.measures.get(
                                      "events.relay_crash_rows", 0)}
    tapped: Tap | None = env.measures.get(sup.TAP)
    if tapped is not None:
        figures |= {"records_delivered": tapped.records, "duplicates_delivered": tapped.duplicates,
                    "events_delivered_more_than_once": sum(1 for n in tapped.seen.values() if n > 1),
                    "poison_delivered": tapped.poison}
    problems = [f"{n} {what}" for n, what in ((unannounced, "committed transfers without an event"),
                                              (unpublished, "events never published")) if n]
    return _result("events-published", problems, f"{events} events, each published", figures)


def events_applied_once(env: ChaosEnv) -> HookResult:
    problems, figures = [], {}
    with sup.connect(env) as conn:
        for name in CONSUMER_NAMES:
            params = {"c": name, "s": sup.since(env)}
            row = conn.execute(
                "SELECT (SELECT count(*) FROM outbox o WHERE o.created_at >= %(s)s AND NOT EXISTS"
                "  (SELECT 1 FROM processed_events p WHERE p.consumer = %(c)s"
                "   AND p.event_id = o.event_id)),"
                " (SELECT count(*) FROM processed_events p JOIN outbox o USING (event_id)"
                "  WHERE p.consumer = %(c)s AND o.created_at >= %(s)s)", params).fetchone()
            assert row is not None
            missing, applied = int(row[0]), int(row[1])
            figures[f"applied_once_{name}"] = applied
            if missing:
                problems.append(f"{name}: {missing} events never applied")
            table = EFFECTS.get(name)
            if table is None:
                continue
            row = conn.execute(
                "SELECT (SELECT count(*) FROM processed_events p WHERE p.consumer = %(c)s"
                f"  AND p.processed_at >= %(s)s{EFFECT_OF.get(name, '')}"
                f"  AND NOT EXISTS (SELECT 1 FROM {table} e WHERE e.event_id = p.event_id)),"
                f" (SELECT count(DISTINCT e.event_id) FROM {table} e WHERE e.recorded_at >= %(s)s"
                "  AND NOT EXISTS (SELECT 1 FROM processed_events p WHERE p.consumer = %(c)s"
                "   AND p.event_id = e.event_id))", params).fetchone()
            assert row is not None
            if row[0]:
                problems.append(f"{name}: {row[0]} processed events without their effect")
            if row[1]:
                problems.append(f"{name}: {row[1]} effects without a processed event")
    return _result("events-applied-once", problems, "each consumer applied each event once",
                   figures)


def events_read_models(env: ChaosEnv) -> HookResult:
    with sup.connect(env) as conn:
        v = ops.verify(conn)
    figures = {"journal_entries": v.entries_in_ledger, "entries_projected": v.entries_projected}
    problems = [] if v.ok else [f"{len(v.drift)} drifting account buckets, {v.entries_in_ledger} "
                                f"entries vs {v.entries_projected} projected, "
                                f"{v.missing_in_audit} events missing in the audit trail"]
    return _result("events-read-models", problems, "read models match the ledger", figures)


def events_dlq(env: ChaosEnv) -> HookResult:
    injected: list[str] = env.measures.get("events.poison", [])
    with sup.connect(env) as conn:
        rows = conn.execute(
            "SELECT consumer, record_headers ->> %s FROM dead_letters WHERE resolved_at IS NULL"
            " AND dead_at >= %s", (POISON_HEADER, sup.since(env))).fetchall()
    strays = [(c, m) for c, m in rows if m not in injected]
    got = {(c, m) for c, m in rows}
    unrefused = [m for m in injected if any((c, m) not in got for c in CONSUMER_NAMES)]
    problems = [f"{len(strays)} dead letters that are not injected poison"] if strays else []
    problems += [f"poison {m[:8]} not dead-lettered by every consumer" for m in unrefused]
    return _result("events-dlq", problems, "dead letters: the injected poison only",
                   {"poison_injected": len(injected), "dead_letters": len(rows)})


CHAOS_HOOKS = (events_drained, events_published, events_applied_once, events_read_models,
               events_dlq)
