"""The async fraud rules on the real PostgreSQL and broker: the relay publishes the transfer
events, the fraud-async consumer (the phase-2 framework) reads them, flags accounts, freezes on
a severe pattern and emits fraud.* events through the outbox.

The transfers are made by the phase-2 service (the same transfer events as phase 5's, without
the sync engine, which has its own tests) on a phase-5 database (the fraud_flags migration).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from uuid import UUID

import psycopg
import pytest

from fintech_core.bootstrap import bootstrap
from fintech_core.db.admin import drop_database
from fintech_core.events import ops
from fintech_core.events.consumer import Outcome
from fintech_core.events.contracts import CONTRACTS
from fintech_core.events.relay import Relay, RelayConfig
from fintech_core.events.runner import ConsumerConfig, ConsumerRunner
from fintech_core.fraud.async_rules import CONSUMER, FraudAsyncRules
from fintech_core.stack.lab import Lab
from fintech_core.stack.processes import wait_until
from phases import composition
from tests.conftest import TEST_DB_PREFIX
from tests.integration.ledger_client import LedgerClient

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

_n = itertools.count()


@dataclass
class Stack:
    url: str
    client: LedgerClient

    def sql(self, query: str, params: tuple[object, ...] = ()) -> list[tuple]:  # type: ignore[type-arg]
        with psycopg.connect(self.url, autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    def consumed_all(self) -> bool:
        """Every outbox row (the fraud events included) processed by fraud-async."""
        return self.sql("SELECT (SELECT count(*) FROM outbox) = (SELECT count(*) FROM"
                        " processed_events WHERE consumer = %s)", (CONSUMER,))[0][0]

    async def person(self, funded: int) -> UUID:
        account = await self.client.open("p", funded=funded)
        return account


@pytest.fixture
def phase5_url(lab: Lab) -> Iterator[tuple[Lab, str]]:
    prefix = f"{TEST_DB_PREFIX}_fa{next(_n)}"
    own = Lab(lab.settings.model_copy(update={
        "database_url": lab.database_url(), "kafka_bootstrap": lab.kafka_bootstrap(),
        "database_prefix": prefix, "phase": 5}))
    url = own.prepare_database(composition(5))
    try:
        yield own, url
    finally:
        drop_database(lab.database_url(), f"{prefix}_p5")


@pytest.fixture
async def stack(phase5_url: tuple[Lab, str]) -> AsyncIterator[Stack]:
    own, url = phase5_url
    container = bootstrap(own.settings.model_copy(update={"db_pool_min": 1, "db_pool_max": 4}),
                          composition(2))
    await container.open()
    try:
        yield Stack(url, LedgerClient(container, url))
    finally:
        await container.close()


@pytest.fixture
def workers(stack: Stack, phase5_url: tuple[Lab, str]) -> Iterator[ConsumerRunner]:
    """The relay and the fraud-async consumer, in threads, on the real broker."""
    own, url = phase5_url
    from fintech_core.events.topics import topics_for

    bootstrap_servers = own.kafka_bootstrap()
    topics = topics_for(own.settings)
    relay = Relay(RelayConfig(url, bootstrap_servers, topics, batch=200, poll_seconds=0.2))
    runner = ConsumerRunner(FraudAsyncRules(), ConsumerConfig(url, bootstrap_servers, topics,
                                                              backoff_ms=20))
    threads = [threading.Thread(target=w.run, daemon=True) for w in (relay, runner)]
    for t in threads:
        t.start()
    try:
        yield runner
    finally:
        relay.stop()
        runner.stop()
        for t in threads:
            t.join(timeout=30)


def _fraud_events(s: Stack, account: UUID) -> list[tuple[str, dict[str, object]]]:
    rows = s.sql("SELECT event_type, payload FROM outbox WHERE event_type LIKE 'fraud.%%'"
                 " AND aggregate_id = %s ORDER BY seq", (account,))
    for event_type, payload in rows:  # each one a valid, versioned contract
        CONTRACTS[event_type].model_validate(payload)
    return [(r[0], r[1]) for r in rows]


async def test_a_fan_out_flags_once_though_every_event_is_delivered_twice(
        stack: Stack, workers: ConsumerRunner) -> None:
    payer = await stack.person(funded=1_000_000)
    machine = await stack.person(funded=1_000_000)  # held by the lab's driver: out of scope
    stack.sql("UPDATE accounts SET holder = 'lab-driver' WHERE id = %s", (machine,))
    structurer = await stack.person(funded=10_000_000)
    for _ in range(7):  # 7 new beneficiaries: the 5th reveals it, the 6th and 7th add nothing
        payee = await stack.person(funded=0)
        await stack.client.move(payer, payee, 1_000)
        await stack.client.move(machine, payee, 1_000)
    known = await stack.person(funded=0)
    for _ in range(3):  # three just under 10 000.00, to a single payee
        await stack.client.move(structurer, known, 950_000)
    assert wait_until(stack.consumed_all, 60, 0.2)
    last = stack.sql("SELECT max(seq) FROM outbox")[0][0]
    with psycopg.connect(stack.url, autocommit=True) as conn:
        assert ops.replay(conn, 1, last) == last  # every event published a second time
    assert wait_until(lambda: workers.counts[Outcome.DUPLICATE] >= last, 60, 0.2), workers.counts
    assert wait_until(stack.consumed_all, 60, 0.2)

    flags = stack.sql("SELECT account_id, rule, severity, froze FROM fraud_flags ORDER BY id")
    assert flags == [(payer, "fan-out", "medium", False),
                     (structurer, "structuring", "medium", False)]
    assert [t for t, _ in _fraud_events(stack, payer)] == ["fraud.account-flagged.v1"]
    assert _fraud_events(stack, machine) == []
    assert stack.sql("SELECT status FROM accounts WHERE id = %s", (payer,)) == [("ACTIVE",)]
    assert workers.counts[Outcome.DEAD] == 0


async def test_a_mule_is_frozen_and_its_next_transfer_refused(
        stack: Stack, workers: ConsumerRunner) -> None:
    funder = await stack.person(funded=1_000_000)
    mule = await stack.person(funded=0)
    out = await stack.person(funded=0)
    await stack.client.move(funder, mule, 500_000)
    moved = await stack.client.move(mule, out, 450_000)  # 90 % of it out again, at once
    assert wait_until(lambda: stack.sql("SELECT status FROM accounts WHERE id = %s",
                                        (mule,)) == [("FROZEN",)], 60, 0.2)

    flag = stack.sql("SELECT rule, severity, froze, transfer_id FROM fraud_flags"
                     " WHERE account_id = %s", (mule,))
    assert flag == [("mule", "high", True, moved.transfer.id)]
    events = _fraud_events(stack, mule)
    assert [t for t, _ in events] == ["fraud.account-flagged.v1", "fraud.account-frozen.v1"]
    assert events[1][1]["account_id"] == str(mule)
    # The freeze is the accounts slice's: the next transfer out is refused, nothing moves.
    refused = await stack.client.keyed_move(mule, out, 10_000)
    assert (refused.status, refused.body["code"]) == (409, "account-frozen")
    assert stack.sql("SELECT balance FROM accounts WHERE id = %s", (mule,)) == [(50_000,)]
    assert stack.sql("SELECT count(*) FROM fraud_flags WHERE account_id <> %s", (mule,)) == [(0,)]
