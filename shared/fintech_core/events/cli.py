"""`fcl relay`, `fcl consume` (long-running processes phase 2 declares as workers, so
`fcl up` starts them) and `fcl events ...` (status, verify, replay, dead letters)."""

from __future__ import annotations

import dataclasses
import json
import logging
import signal
import threading
from typing import Annotated

import psycopg
import typer
from rich.console import Console
from rich.table import Table

from fintech_core.events import inspect_topics, ops
from fintech_core.events.registry import CONSUMER_NAMES, CONSUMERS
from fintech_core.events.relay import Relay, RelayConfig
from fintech_core.events.runner import ConsumerConfig, ConsumerRunner
from fintech_core.events.storage_cli import broker_storage
from fintech_core.events.topics import topics_for
from fintech_core.settings import Settings
from fintech_core.stack.lab import Lab

app = typer.Typer(help="Phase 2 events: status, verify, replay, dead letters, topics, tail.",
                  no_args_is_help=True)
dlq_app = typer.Typer(help="Dead letters: messages a consumer gave up on.", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")
app.command("broker-storage")(broker_storage)
console = Console()

PhaseOpt = Annotated[int | None, typer.Option("--phase", "-p", help="Phase (>= 2).")]


def _where(phase: int | None) -> tuple[Settings, str, str]:
    from fintech_core.cli.context import composition, settings_for

    settings = settings_for(phase)
    if "outbox" not in composition(settings).features:
        raise RuntimeError(f"events arrive with the outbox (phase 2); phase {settings.phase} "
                           "has none")
    lab = Lab(settings)
    return settings, lab.phase_database_url(settings.phase), lab.kafka_bootstrap()


def _until_signal(workers: list[Relay] | list[ConsumerRunner]) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: [w.stop() for w in workers])
    threads = [threading.Thread(target=w.run, name=type(w).__name__) for w in workers]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        for t in threads:
            t.join(timeout=0.5)


def relay(phase: PhaseOpt = None) -> None:
    """Publish the outbox to the broker until stopped (SIGTERM / Ctrl-C)."""
    s, url, bootstrap = _where(phase)
    _until_signal([Relay(RelayConfig(
        url, bootstrap, topics_for(s), s.event_partitions, s.relay_batch_size,
        s.relay_poll_seconds, s.outbox_retention_hours, s.relay_crash_after_publish))])


def consume(phase: PhaseOpt = None,
            only: Annotated[list[str] | None, typer.Option(help="Run only these consumers.")]
            = None) -> None:
    """Run the consumers (activity, audit) until stopped. Start as many processes as you like:
    they share each consumer's partitions through leases in PostgreSQL."""
    s, url, bootstrap = _where(phase)
    config = ConsumerConfig(url, bootstrap, topics_for(s), s.event_partitions,
                            s.consumer_max_attempts, s.consumer_backoff_ms,
                            s.consumer_lease_seconds)
    _until_signal([ConsumerRunner(h, config) for h in CONSUMERS if not only or h.name in only])


def _conn(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True)


@app.command()
def status(phase: PhaseOpt = None) -> None:
    """Outbox backlog, oldest unpublished age, and each consumer's progress (from PostgreSQL)."""
    _, url, _ = _where(phase)
    with _conn(url) as conn:
        st = ops.status(conn)
    age = "-" if st.oldest_unpublished_s is None else f"{st.oldest_unpublished_s:.1f} s"
    console.print(f"outbox: {st.unpublished} unpublished (oldest {age}), "
                  f"{st.published_retained} published and retained")
    table = Table("consumer", "processed", "behind", "dead letters", "lag p50 ms", "lag p99 ms")
    for c in st.consumers:
        table.add_row(c.consumer, str(c.processed), str(c.behind), str(c.dead),
                      *("-" if v is None else f"{v:.0f}" for v in (c.lag_p50_ms, c.lag_p99_ms)))
    console.print(table)


@app.command()
def verify(phase: PhaseOpt = None) -> None:
    """Compare the activity projection with the ledger's postings, and the audit trail with the
    outbox. Exit 1 on any difference."""
    _, url, _ = _where(phase)
    with _conn(url) as conn:
        v = ops.verify(conn)
    console.print(f"journal entries {v.entries_in_ledger}, projected {v.entries_projected}; "
                  f"drifting account buckets {len(v.drift)}; events missing in the audit trail "
                  f"{v.missing_in_audit}")
    for row in v.drift[:20]:
        console.print(f"  {row[0]} {row[1]}: ledger {row[2]}, projection {row[3]}")
    if not v.ok:
        raise typer.Exit(1)
    console.print("[green]read models match the ledger[/]")


@app.command()
def replay(first: Annotated[int, typer.Option("--from", help="First outbox seq.")],
           last: Annotated[int, typer.Option("--to", help="Last outbox seq.")],
           phase: PhaseOpt = None) -> None:
    """Publish a range of retained outbox rows again (the relay sends them, in order)."""
    _, url, _ = _where(phase)
    with _conn(url) as conn:
        n = ops.replay(conn, first, last)
    console.print(f"{n} events queued for publication again")


@dlq_app.command("list")
def dlq_list(phase: PhaseOpt = None,
             consumer: Annotated[str | None, typer.Option(help=f"One of {CONSUMER_NAMES}")] = None,
             all_: Annotated[bool, typer.Option("--all", help="Include resolved.")] = False
             ) -> None:
    """Dead letters with their error, attempts and original topic/partition/offset."""
    _, url, _ = _where(phase)
    with _conn(url) as conn:
        rows = ops.dead_letters(conn, consumer, all_)
    table = Table("id", "consumer", "event", "type", "attempts", "error", "from", "resolved")
    for r in rows:
        table.add_row(str(r[0]), r[1], str(r[2])[:13], str(r[3]), str(r[4]), str(r[5])[:60],
                      f"{r[6]}/{r[7]}@{r[8]}", "yes" if r[10] else "no")
    console.print(table)


@dlq_app.command("replay")
def dlq_replay(phase: PhaseOpt = None,
               consumer: Annotated[str | None, typer.Option(help="Only this consumer's.")] = None
               ) -> None:
    """Feed open dead letters back through their consumer, once the cause is fixed."""
    _, url, _ = _where(phase)
    with _conn(url) as conn:
        outcomes = ops.replay_dead_letters(conn, consumer)
    console.print(", ".join(f"{k}: {v}" for k, v in outcomes.items()))


@app.command()
def topics(phase: PhaseOpt = None,
           all_: Annotated[bool, typer.Option("--all", help="Every topic on the broker.")] = False
           ) -> None:
    """The phase's topics: partitions, leaders, the offsets the broker reports, and where each
    consumer resumes (stored in PostgreSQL)."""
    s, url, bootstrap = _where(phase)
    t = topics_for(s)
    names = inspect_topics.list_topics(bootstrap) if all_ else [t.events, t.dlq]
    with _conn(url) as conn:
        resume = ops.positions(conn)
    table = Table("topic", "partition", "leader", "reported beginning", "reported end",
                  "consumers resume at (PostgreSQL)")
    for info in inspect_topics.describe(bootstrap, names):
        if not info.exists:
            table.add_row(info.name, "-", "-", "-", "-", "(not created yet)")
        for p in info.partitions:
            at = ", ".join(f"{c} {o}" + (f" ({owner})" if owner else "")
                           for c, o, owner in resume.get((info.name, p.partition), []))
            table.add_row(info.name, str(p.partition), str(p.leader),
                          str(p.reported_beginning), str(p.reported_end), at or "-")
    console.print(table)
    console.print("Reported end offsets are wrong on the embedded broker when producers batch "
                  "(the relay does): progress is `fcl events status`, counted in PostgreSQL.")


@app.command()
def tail(phase: PhaseOpt = None,
         topic: Annotated[str, typer.Option(help="events, dlq, or a full topic name.")] = "events",
         limit: Annotated[int, typer.Option(min=1, max=10_000)] = 20,
         timeout: Annotated[float, typer.Option(min=0.1, max=600, help="Seconds, at most.")]
         = 5.0,
         last: Annotated[bool, typer.Option("--last", help="The last LIMIT, not the first.")]
         = False,
         partition: Annotated[int | None, typer.Option(min=0)] = None,
         key: Annotated[str | None, typer.Option(help="Only this key (an account id).")] = None,
         as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line.")] = False
         ) -> None:
    """Read a topic with no consumer group (nothing moves): partition@offset, key, event type
    and id, outbox seq, headers; `!` marks a record whose seq is below an earlier one of its key
    (a republished duplicate, or a reordering)."""
    s, _, bootstrap = _where(phase)
    t = topics_for(s)
    name = {"events": t.events, "dlq": t.dlq}.get(topic, topic)
    found = inspect_topics.tail(bootstrap, name, limit=limit, timeout=timeout, last=last,
                                partition=partition, key=key)
    if as_json:
        for m in found:
            typer.echo(json.dumps(dataclasses.asdict(m)))
        return
    table = Table("at", "key", "event", "event id", "seq", "headers", "")
    for m in found:
        extra = {k: v for k, v in m.headers.items() if k not in ("event_id", "event_type")}
        table.add_row(f"{m.partition}@{m.offset}", m.key or "-", m.event_type or "?",
                      m.event_id or "?", "-" if m.outbox_seq is None else str(m.outbox_seq),
                      " ".join(f"{k}={v}" for k, v in extra.items()),
                      "!" if m.behind_earlier_of_key else "")
    console.print(table)
    console.print(f"{len(found)} messages from {name}")
