"""Phase 2 in the benchmark: the relay's throughput on a backlog, and commit-to-consumer lag at
half of the run's maximum load, with the money and events checks of that window.

The relay and the consumers run for the whole benchmark (as `fcl up` runs them), as child
processes under a tag of their own, against the bench database; every API run is followed by a
bounded wait until they caught up, so no run (nor the pgbench yardstick after it) shares the
cores with the previous run's backlog.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psycopg
from kafka import KafkaAdminClient

from fintech_core.bench import checks
from fintech_core.events import bench_facts as facts
from fintech_core.events import ops
from fintech_core.events.registry import CONSUMER_NAMES
from fintech_core.events.topics import topics_for
from fintech_core.phase import Composition
from fintech_core.stack.lab import Lab

Progress = Callable[[str], None]
LoadGen = Callable[..., dict[str, Any]]


class EventsBench:
    """Phase 2's bench part (Phase.bench_parts): the protocol bench/runner.py drives is
    `name`, start(), drain(), measure(...), stop()."""

    name = "events"

    def __init__(self, lab: Lab, composition: Composition, db_url: str, tag: str,
                 drain_timeout: float, **flags: object) -> None:
        self.db_url, self.drain_timeout = db_url, drain_timeout
        self._drained = 0  # every outbox row up to this seq is published and consumed
        # Its own workers only: a later phase's (the provider simulator) belong to its own part.
        self.workers = {w.spec.name: w for w in lab.workers(composition, tag=tag, **flags)
                        if w.spec.name in ("relay", "consume")}
        self.bootstrap = lab.kafka_bootstrap()
        self.topics = topics_for(lab.settings.model_copy(update={"phase": composition.number}))

    def _fresh_topics(self) -> None:
        """The bench database was just recreated; its topics must start empty too. A reused
        broker keeps an earlier run's topics, and a message that run left unconsumed (stopped
        mid-way) names entries this database lacks: projected, it shows as drift. The new
        database starts with no stored consumer offsets; the relay recreates the topics when
        it starts (consumers wait for it)."""
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=5000)
        try:
            doomed = [t for t in (self.topics.events, self.topics.dlq) if t in admin.list_topics()]
            if doomed:
                admin.delete_topics(doomed)
        finally:
            admin.close()

    def start(self) -> None:
        self._fresh_topics()
        for w in self.workers.values():
            w.start()

    def stop(self) -> None:
        for w in reversed(self.workers.values()):
            w.stop()

    def _sql(self) -> psycopg.Connection:
        return psycopg.connect(self.db_url, autocommit=True)

    def last_seq(self) -> int:
        with self._sql() as conn:
            return facts.last_seq(conn)

    def drain(self, after_seq: int | None = None) -> tuple[bool, float]:
        """Wait (at most drain_timeout) until every outbox row after `after_seq` (default: the
        last row already seen drained) is published and every consumer has processed or
        dead-lettered it. Returns (caught up, seconds waited)."""
        after = self._drained if after_seq is None else after_seq
        t0 = time.monotonic()
        with self._sql() as conn:
            target = facts.last_seq(conn)
            while any(facts.pending(conn, after, CONSUMER_NAMES).values()):
                if time.monotonic() - t0 > self.drain_timeout:
                    return False, round(time.monotonic() - t0, 2)
                time.sleep(0.2)
        self._drained = max(self._drained, target)
        return True, round(time.monotonic() - t0, 2)

    def relay_throughput(self, writer: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Stop the relay, let `writer` (an API run) fill the outbox, start the relay and time
        it until every row of that backlog is marked published."""
        relay = self.workers["relay"]
        relay.stop()
        after = self.last_seq()
        written = writer()
        window = facts.Window(after, self.last_seq())
        with self._sql() as conn:
            started = conn.execute("SELECT clock_timestamp()").fetchone()[0]  # type: ignore[index]
        relay.start()
        with self._sql() as conn:
            t0, published = time.monotonic(), False
            while not (published := facts.pending(conn, after, ())["unpublished"] == 0):
                if time.monotonic() - t0 > self.drain_timeout:
                    break
                time.sleep(0.05)
            batches = facts.relay_batches(conn, window)
        return {"window": vars(window), "writer": written, "published": published,
                **facts.relay_rate(batches, started)}

    def measure(self, api_url: str, accounts: list[str], rows: list[dict[str, Any]],
                seconds: float, backlog: int, loadgen: LoadGen, progress: Progress
                ) -> dict[str, Any]:
        def created_per_second(row: dict[str, Any]) -> float:
            return float(row["api"]["statuses"].get("201", 0) / max(row["api"]["seconds"], 1e-9))

        best = max((r for r in rows if r["workload"] == "uniform"), key=created_per_second,
                   default=None)
        if best is None:
            progress("events: measuring max load (uniform, 16 clients, closed loop)")
            best = {"clients": 16, "api": loadgen(api_url, "uniform", 16, seconds, accounts)}
        clients, max_rate = best["clients"], created_per_second(best)
        if max_rate < 2:
            raise RuntimeError(f"max load {max_rate:.1f} transfers/s: no load to halve")
        # The backlog is written at max load for long enough to hold several relay claims.
        fill = round(min(4 * seconds, max(seconds, backlog / max(max_rate, 1.0))), 1)
        progress(f"events: relay throughput on a backlog (~{backlog} events: {clients} clients, "
                 f"{fill} s, relay stopped)")
        relay = self.relay_throughput(
            lambda: loadgen(api_url, "uniform", clients, fill, accounts))
        drained, _ = self.drain()
        offered = round(max_rate / 2, 1)
        progress(f"events: half of max load, {offered} transfers/s open loop, {seconds} s")
        after = self.last_seq()
        before_state = checks.ledger_state(self.db_url, accounts)
        api = loadgen(api_url, "uniform", max(4, clients), seconds, accounts, rate=offered)
        after_state = checks.ledger_state(self.db_url, accounts)
        window = facts.Window(after, self.last_seq())
        caught_up, catch_up_s = self.drain(after)
        with self._sql() as conn:
            found = facts.window_facts(conn, window, CONSUMER_NAMES)
            read_models = ops.verify(conn)
        created = api["statuses"].get("201", 0)
        money = checks.verify(before_state, after_state, created, checks.ledger_report(api_url))
        event_checks, detail = facts.verdict(found, created, caught_up, read_models.ok)
        event_checks["backlog_published"] = bool(relay["published"]) and drained
        verdicts = {**{k: v for k, v in money.items() if k != "ok"}, **event_checks}
        return {
            "max_load": {"per_second": round(max_rate, 1), "clients": clients},
            "offered_per_second": offered, "window": vars(window), "api": api,
            "events": len(found.event_ids), "catch_up_s": catch_up_s,
            "lag_ms": {c: facts.lag_stats(found.lags_ms[c]) for c in CONSUMER_NAMES},
            "publish_lag_ms": facts.lag_stats(found.publish_lags_ms),
            "relay": relay, "consumers": detail, "dead_letters": found.dead_letters,
            "read_models": {"ok": read_models.ok, "drift": len(read_models.drift),
                            "entries_in_ledger": read_models.entries_in_ledger,
                            "entries_projected": read_models.entries_projected,
                            "missing_in_audit": read_models.missing_in_audit},
            "checks": {**verdicts, "ok": all(verdicts.values())},
        }
