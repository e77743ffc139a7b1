"""The read models' queries on real PostgreSQL, through the unit of work: activity lines that
share one recorded_at still page without repeats or gaps (entry id and bucket break the tie),
and a story reads in commit order whatever order the consumer stored it in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from fintech_core.events.reads import ActivityPosition
from tests.integration.events_support import EventsDb
from tests.integration.ledger_client import LedgerClient

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

AT = datetime(2026, 3, 1, 12, tzinfo=UTC)


async def test_lines_with_one_timestamp_page_without_repeats_or_gaps(
        client: LedgerClient, db: EventsDb) -> None:
    account, other = uuid4(), uuid4()
    entries = [UUID(int=i) for i in (5, 1, 4, 2, 3)]
    for entry in entries:
        for bucket, amount in (("POSTED", -7), ("PENDING_OUT", 7)):
            db.sql("INSERT INTO account_activity (account_id, entry_id, bucket, amount, currency,"
                   " transfer_id, event_id, event_type, recorded_at) VALUES"
                   " (%s, %s, %s, %s, 'EUR', %s, %s, 'transfer.posted.v1', %s)",
                   (account, entry, bucket, amount, uuid4(), uuid4(), AT))
    db.sql("INSERT INTO account_activity (account_id, entry_id, bucket, amount, currency,"
           " transfer_id, event_id, event_type, recorded_at) VALUES"
           " (%s, %s, 'POSTED', 1, 'EUR', %s, %s, 'transfer.completed.v1', %s)",
           (other, uuid4(), uuid4(), uuid4(), AT + timedelta(days=1)))

    seen, before, pages = [], None, 0
    while True:
        async with client.c.uow_factory() as uow:
            page = await uow.extension("event_reads").activity(account, before, 3)
        pages += 1
        seen += page
        if len(page) < 3:
            break
        before = ActivityPosition.of(page[-1])
    keys = [(x.entry_id, x.bucket) for x in seen]
    assert keys == sorted(keys, reverse=True) and len(set(keys)) == 10 and pages == 4
    assert {x.account_id for x in seen} == {account}


async def test_a_story_is_in_commit_order(client: LedgerClient, db: EventsDb) -> None:
    transfer = uuid4()
    for event_type, minutes in (("transfer.posted.v1", 2), ("transfer.held.v1", 1)):
        db.sql("INSERT INTO audit_trail (event_id, event_type, aggregate_type, aggregate_id,"
               " correlation_id, payload, occurred_at) VALUES (%s, %s, 'account', %s, %s,"
               " '{\"transfer_id\": 1}', %s)",
               (uuid4(), event_type, uuid4(), str(transfer), AT + timedelta(minutes=minutes)))
    async with client.c.uow_factory() as uow:
        story = await uow.extension("event_reads").story(transfer)
        assert await uow.extension("event_reads").story(uuid4()) == []
    assert [e.event_type for e in story] == ["transfer.held.v1", "transfer.posted.v1"]
    assert story[0].payload == {"transfer_id": 1} and story[0].occurred_at.tzinfo is not None
