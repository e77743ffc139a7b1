"""Phase 2's chaos faults: the async path under fire (chaos/faults.py has the contract).

Each works on the run's LabSession (its relay and consumer workers, its embedded broker) and
restores service before it returns. Consumers are treated as black boxes: killed and restarted
as processes, judged by what they wrote to PostgreSQL.

- relay-kill: the relay restarted with the drill flag that exits between publish and mark, so
  its whole batch is on the broker but still unpublished in the outbox: sent again after restart
  (with no traffic it replays the latest events, so there is a batch to crash on);
- broker-stop: the broker down for `broker_outage_s` (60 s by default), then started empty
  (memory storage): the relay re-queues what consumers lack; the drain time is measured. With
  FINCORE_BROKER_STORAGE=s3 it comes back with its topics, and nothing is re-queued;
- consumer-kill: SIGKILL the consumers while they are applying events (after some effects
  committed, before the batch's offsets did): the batch is redelivered. With no traffic it
  replays the latest events first, so there is a batch to die in;
- poison: a malformed record, or a well-formed one of an unknown version, produced onto the
  events topic; every consumer must dead-letter it and move on.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import time
import uuid

from fintech_core.chaos.env import ChaosEnv
from fintech_core.events import chaos_support as sup
from fintech_core.events import ops
from fintech_core.events.chaos_tap import POISON_HEADER
from fintech_core.events.relay import make_producer
from fintech_core.stack.processes import wait_until

CRASH_LINE = "drill: exiting after publishing"


class _EventFault:
    """What the four share: they need the session's workers, and they start the topic tap."""

    name = ""
    needs = ("relay", "consume")

    def available(self, env: ChaosEnv) -> str | None:
        return sup.missing(env, self.needs)

    def begin(self, env: ChaosEnv) -> None:
        sup.tap(env)

    def end(self, env: ChaosEnv) -> None:
        sup.close_tap(env)


class RelayKill(_EventFault):
    name = "relay-kill"

    def inject(self, env: ChaosEnv, rng: random.Random) -> str:
        s = sup.session(env)
        log = s.workers["relay"].log
        offset = log.stat().st_size if log.exists() else 0
        # start() may see it exit at once: it had a backlog and crashed on cue (checked below).
        with contextlib.suppress(RuntimeError):
            s.restart_worker("relay", relay_crash_after_publish=True)
        gone = lambda: s.workers["relay"].running_pid() is None  # noqa: E731
        if not wait_until(gone, 2, 0.02):
            # No traffic (the workload paused or ended): replay the latest events so the relay
            # has a batch to publish; the consumers absorb the repeats like any duplicate.
            upto = sup.last_seq(env)
            with sup.connect(env) as conn:
                ops.replay(conn, max(1, upto - 19), upto)
        crashed = wait_until(gone, 20, 0.02)
        with open(log, "rb") as f:
            f.seek(offset)
            lines = [ln for ln in f.read().decode(errors="replace").splitlines()
                     if CRASH_LINE in ln]
        s.restart_worker("relay")
        if not lines:
            raise RuntimeError(f"the relay {'exited' if crashed else 'ran on'} without the "
                               f"drill's crash; see {log}")
        resent = int(lines[-1].split(CRASH_LINE)[1].split()[0])
        env.measures["events.relay_crash_rows"] = env.measures.get(
            "events.relay_crash_rows", 0) + resent
        return f"relay exited after publishing {resent} rows, before marking; restarted"


class BrokerStop(_EventFault):
    name = "broker-stop"

    def available(self, env: ChaosEnv) -> str | None:
        why = super().available(env)
        if why is None and sup.session(env).lab.broker is None:
            return "the broker is external, not embedded"
        return why

    def inject(self, env: ChaosEnv, rng: random.Random) -> str:
        broker = sup.session(env).lab.broker
        assert broker is not None
        outage = env.options.get("broker_outage_s", 60.0)
        broker.stop()
        if broker.store is None:  # memory storage: the topic comes back empty
            sup.tap(env).lost()  # (with s3 it comes back whole: re-reading it would count
            # every record again as a duplicate)
        time.sleep(outage)
        broker.start()
        returned, target = time.monotonic(), sup.last_seq(env)
        drained = sup.wait_drained(env, target, env.options.get("drain_bound_s", 120.0))
        took = round(time.monotonic() - returned, 1)
        env.measures.setdefault("events.broker_drains_s", []).append(took if drained else None)
        state = f"drained in {took} s" if drained else f"NOT drained after {took} s"
        return f"broker down {outage:.0f} s; backlog up to seq {target} {state} after it returned"


class ConsumerKill(_EventFault):
    name = "consumer-kill"

    def inject(self, env: ChaosEnv, rng: random.Random) -> str:
        s = sup.session(env)
        pid = s.workers["consume"].running_pid()
        how = "mid-batch"
        if not sup.wait_applying(env, timeout=2):  # effects committing now: a batch under way
            # No traffic (the workload paused or ended): replay the latest events, and kill a
            # moment after the relay republished them, while the consumers work through that
            # batch of duplicates (their offsets uncommitted: the batch comes again).
            upto = sup.last_seq(env)
            with sup.connect(env) as conn:
                n = ops.replay(conn, max(1, upto - 299), upto)
            sup.wait_published(env, upto, timeout=20)
            time.sleep(rng.uniform(0.03, 0.15))
            how = f"mid-batch of {n} replayed events"
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            wait_until(lambda: s.workers["consume"].running_pid() is None, 10, 0.02)
        s.restart_worker("consume")
        return f"killed pid {pid} {how}, restarted"


class Poison(_EventFault):
    name = "poison"

    def inject(self, env: ChaosEnv, rng: random.Random) -> str:
        injected: list[str] = env.measures.setdefault("events.poison", [])
        marker = str(uuid.uuid4())
        # Alternate, so both kinds are covered from the second injection on.
        unknown = len(injected) % 2 == 1
        value = sup.unknown_version(marker) if unknown else b'{"event_id": "' + marker.encode()
        producer = make_producer(sup.bootstrap(env))
        try:
            producer.send(sup.topics(env).events, key=marker.encode(), value=value,
                          headers=[(POISON_HEADER, marker.encode())]).get(timeout=15)
        finally:
            producer.close(timeout=2)
        injected.append(marker)
        if not sup.wait_dead_lettered(env, marker, timeout=60):
            raise RuntimeError(f"poison {marker} not dead-lettered by every consumer in 60 s")
        kind = "unknown version" if unknown else "malformed JSON"
        return f"{kind} record {marker[:8]} dead-lettered by every consumer"


CHAOS_FAULTS = (RelayKill(), BrokerStop(), ConsumerKill(), Poison())
