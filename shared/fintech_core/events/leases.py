"""Partition ownership and consumer offsets in PostgreSQL (table consumer_partitions), in place of
broker consumer groups.

A consumer process claims partitions whose row is free or whose lease expired, renews its
leases about three times per lease, and releases them on shutdown. It takes its share,
ceil(partitions / live processes of that consumer), and gives back any extra, so a new process
gets work and a SIGKILLed one's partitions go to the others once its lease expires. There is no
group join and no rebalance barrier: a process that dies or hangs delays only its own
partitions, for at most one lease.

Guarantees, and why:
- one process at a time applies a partition's events: every claim bumps the row's `epoch`, and
  the offset is advanced only `WHERE epoch = <the epoch this process claimed>`, in the effect's
  own transaction. That UPDATE comes first in the transaction, so it also holds the row lock: a
  claim waits for an in-flight effect to commit and then reads the offset after it. A process
  that lost its lease fails the fence (LeaseLost) and its effect rolls back;
- the stored offset is exactly what was applied: it commits with the effect, so a restart
  resumes at the first event not applied, with no replay beyond the one in flight;
- per-key order holds across handoffs: a partition's events are applied in offset order by one
  owner at a time, and the next owner starts where the last committed one stopped.
"""

from __future__ import annotations

import math
import os
import secrets
import socket
from dataclasses import dataclass, field

import psycopg


class LeaseLost(Exception):
    """This process no longer owns the partition: another claimed it, or the topic was reset."""


@dataclass
class Claim:
    epoch: int
    next_offset: int


def new_owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass
class Leases:
    consumer: str
    topic: str
    seconds: float = 6.0
    owner: str = field(default_factory=new_owner_id)
    owned: dict[int, Claim] = field(default_factory=dict)

    def _key(self) -> dict[str, object]:
        return {"c": self.consumer, "t": self.topic, "me": self.owner,
                "ttl": self.seconds}

    def tick(self, conn: psycopg.Connection, partitions: int) -> bool:
        """Renew, shed extras, claim up to this process's share. True when `owned` changed."""
        k = self._key()
        before = dict(self.owned)
        with conn.transaction():
            conn.execute(
                "INSERT INTO consumer_partitions (consumer, topic, kafka_partition)"
                " SELECT %(c)s, %(t)s, p FROM generate_series(0, %(n)s - 1) p"
                " ON CONFLICT DO NOTHING", {**k, "n": partitions})
            conn.execute(
                "INSERT INTO consumer_members VALUES (%(c)s, %(me)s,"
                " now() + make_interval(secs => %(ttl)s)) ON CONFLICT (consumer, owner)"
                " DO UPDATE SET expires_at = excluded.expires_at", k)
            conn.execute("DELETE FROM consumer_members WHERE consumer = %(c)s"
                         " AND expires_at < now()", k)
            (members,) = conn.execute(
                "SELECT count(*) FROM consumer_members WHERE consumer = %(c)s"
                " AND expires_at >= now()", k).fetchone() or (1,)
            renewed = conn.execute(
                "UPDATE consumer_partitions SET lease_expires_at = now()"
                " + make_interval(secs => %(ttl)s) WHERE consumer = %(c)s AND topic = %(t)s"
                " AND owner = %(me)s RETURNING kafka_partition, epoch", k).fetchall()
            live = {p: e for p, e in renewed}
            # Only leases still at the epoch this process claimed are its own.
            self.owned = {p: c for p, c in self.owned.items() if live.get(p) == c.epoch}
        share = math.ceil(partitions / max(members, 1))
        gone = [p for p in self.owned if p >= partitions]  # the topic came back smaller
        extra = gone + sorted(p for p in self.owned if p < partitions)[share:]
        if extra:
            self.release(conn, extra)
        elif len(self.owned) < share:
            self._claim(conn, share - len(self.owned), partitions)
        return self.owned != before

    def _claim(self, conn: psycopg.Connection, n: int, partitions: int) -> None:
        # SKIP LOCKED: a row locked by its owner's in-flight effect is busy, not free.
        rows = conn.execute(
            "UPDATE consumer_partitions SET owner = %(me)s, epoch = epoch + 1,"
            " lease_expires_at = now() + make_interval(secs => %(ttl)s)"
            " WHERE (consumer, topic, kafka_partition) IN (SELECT consumer, topic,"
            "  kafka_partition FROM consumer_partitions WHERE consumer = %(c)s AND topic = %(t)s"
            "  AND kafka_partition < %(parts)s AND (owner IS NULL OR lease_expires_at < now())"
            "  ORDER BY kafka_partition LIMIT %(n)s FOR UPDATE SKIP LOCKED)"
            " RETURNING kafka_partition, epoch, next_offset",
            {**self._key(), "n": n, "parts": partitions}).fetchall()
        for p, epoch, next_offset in rows:
            self.owned[p] = Claim(epoch, next_offset)

    def release(self, conn: psycopg.Connection, partitions: list[int]) -> None:
        conn.execute(
            "UPDATE consumer_partitions SET owner = NULL, lease_expires_at = NULL"
            " WHERE consumer = %(c)s AND topic = %(t)s AND owner = %(me)s"
            " AND kafka_partition = ANY(%(ps)s)", {**self._key(), "ps": partitions})
        for p in partitions:
            self.owned.pop(p, None)

    def leave(self, conn: psycopg.Connection) -> None:
        """On shutdown: free every partition at once (no lease to wait out) and deregister."""
        self.release(conn, list(self.owned))
        conn.execute("DELETE FROM consumer_members WHERE consumer = %(c)s AND owner = %(me)s",
                     self._key())

    def advance(self, conn: psycopg.Connection, partition: int, next_offset: int) -> None:
        """Inside the effect's transaction, first: move the offset, or raise LeaseLost."""
        claim = self.owned.get(partition)
        if claim is None:
            raise LeaseLost(partition)
        cur = conn.execute(
            "UPDATE consumer_partitions SET next_offset = %(o)s WHERE consumer = %(c)s"
            " AND topic = %(t)s AND kafka_partition = %(p)s AND epoch = %(e)s",
            {**self._key(), "o": next_offset, "p": partition, "e": claim.epoch})
        if cur.rowcount != 1:
            raise LeaseLost(partition)

    def committed(self, partition: int, next_offset: int) -> None:
        """After the transaction that advanced the offset committed."""
        if partition in self.owned:
            self.owned[partition].next_offset = next_offset


def reset_topic(conn: psycopg.Connection, topic: str) -> int:
    """The topic was (re)created empty (the memory broker restarted): every consumer starts it
    again at offset 0, and every lease is revoked with a new epoch, so no process can commit a
    position it read from the lost topic. Called in the transaction that re-queues the events."""
    return conn.execute(
        "UPDATE consumer_partitions SET next_offset = 0, epoch = epoch + 1, owner = NULL,"
        " lease_expires_at = NULL WHERE topic = %s", (topic,)).rowcount


def new_incarnation(conn: psycopg.Connection, topic: str, topic_id: str) -> bool:
    """Record the broker's id for `topic`. True when it differs from the one recorded, i.e. the
    topic is a new, empty one: the stored offsets are then reset (see reset_topic). The first
    id ever recorded resets nothing (there is no earlier incarnation to have offsets in)."""
    row = conn.execute(
        "WITH old AS (SELECT topic_id FROM event_topics WHERE topic = %(t)s)"
        " INSERT INTO event_topics (topic, topic_id) VALUES (%(t)s, %(id)s)"
        " ON CONFLICT (topic) DO UPDATE SET topic_id = excluded.topic_id,"
        " recorded_at = clock_timestamp() WHERE event_topics.topic_id <> excluded.topic_id"
        " RETURNING (SELECT topic_id FROM old)", {"t": topic, "id": topic_id}).fetchone()
    if row is None or row[0] is None:  # unchanged, or the first one
        return False
    reset_topic(conn, topic)
    return True
