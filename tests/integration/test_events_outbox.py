"""The outbox is written in the transaction of the change it announces: every committed ledger
change has exactly its event, a refused or rolled-back one has none. PostgreSQL only."""

from __future__ import annotations

import pytest

from fintech_core.transfers.domain import TransferCommand
from tests.integration.events_support import EventsDb
from tests.integration.ledger_client import LedgerClient

pytestmark = [pytest.mark.integration, pytest.mark.anyio]



def events(db: EventsDb) -> list[tuple[str, str, str]]:
    return [(t, str(a), c) for t, a, c in db.sql(
        "SELECT event_type, aggregate_id, headers->>'correlation_id' FROM outbox ORDER BY seq")]


async def test_every_ledger_change_writes_exactly_its_event(client: LedgerClient,
                                                            db: EventsDb) -> None:
    alice = await client.open("alice", funded=1000)
    bob = await client.open("bob")
    moved = await client.move(alice, bob, 100)
    hold = await client.move(alice, bob, 50, hold=True)
    await client.post(hold.transfer.id, 30)
    voided = await client.move(alice, bob, 20, hold=True)
    await client.void(voided.transfer.id)
    reversal = await client.reverse(moved.transfer.id)
    await client.move(bob, None, 10)  # a withdrawal
    got = events(db)
    a, b = str(alice), str(bob)
    assert [(t, agg) for t, agg, _ in got] == [
        ("transfer.completed.v1", a),  # the deposit: keyed by its payee
        ("transfer.completed.v1", a), ("transfer.held.v1", a), ("transfer.posted.v1", a),
        ("transfer.held.v1", a), ("transfer.voided.v1", a),
        ("transfer.completed.v1", b),  # the reversal is paid by the original payee
        ("transfer.completed.v1", b)]
    assert got[1][2] == str(moved.transfer.id) and got[3][2] == str(hold.transfer.id)
    assert got[6][2] == str(reversal)
    # One outbox row per journal entry: nothing unannounced, nothing announced twice.
    assert db.sql("SELECT count(*) FROM journal_entries")[0][0] == len(got)


async def test_a_refused_or_rolled_back_transfer_announces_nothing(client: LedgerClient,
                                                                   db: EventsDb) -> None:
    alice = await client.open("alice", funded=100)
    bob = await client.open("bob")
    before = len(events(db))
    refused = await client.move(alice, bob, 1_000)
    assert refused.rejection is not None
    async with client.c.uow_factory() as uow:  # leaves without commit: a crash mid-request
        await client.c.transfers.execute(uow, TransferCommand(alice, bob, 10, "EUR"), "t")
    assert len(events(db)) == before
    assert db.sql("SELECT count(*) FROM transfers WHERE status = 'COMPLETED'")[0][0] == 1


async def test_an_expiry_is_announced_with_its_release(client: LedgerClient,
                                                       db: EventsDb) -> None:
    alice = await client.open("alice", funded=100)
    bob = await client.open("bob")
    hold = await client.move(alice, bob, 40, hold_seconds=1)
    db.sql("SELECT pg_sleep(1.1)")
    await client.move(alice, bob, 80)  # release on touch: the overdue hold expires first
    types = [t for t, _, c in events(db) if c == str(hold.transfer.id)]
    assert types == ["transfer.held.v1", "transfer.expired.v1"]
