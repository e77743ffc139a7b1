"""Time in the ledger: hold expiry (sweeper, release on read and on touch), balances as of a past
instant, and the statement's cursor pagination with running balances.

The expiry tests run on a database of their own: the e2e session's API runs a sweeper on the
shared one, and these tests must control when (or whether) a sweep happens."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime

import pytest

from fintech_core.ledger.errors import HoldExpired
from fintech_core.ledger.sweeper import expire_due
from fintech_core.transfers.domain import TransferStatus
from tests.integration.ledger_client import LedgerClient

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


async def wait_past(ledger: LedgerClient, instant: datetime) -> None:
    while ledger.db_now() <= instant:
        await asyncio.sleep(0.05)


async def test_an_expired_hold_never_blocks_funds_whenever_the_sweeper_runs(
        scratch_ledger: LedgerClient) -> None:
    ledger = scratch_ledger  # no API's sweeper runs on this database
    a, b = await ledger.open(funded=1000), await ledger.open("bob")
    first = (await ledger.move(a, b, 600, hold_seconds=1)).transfer.id
    second = (await ledger.move(a, b, 100, hold_seconds=1)).transfer.id
    assert (await ledger.balance(a)).available == 300
    expires = (await ledger.details(second)).expires_at
    assert expires is not None
    await wait_past(ledger, expires)
    # No sweeper has run (this process runs none): reads already count the funds as free...
    assert ledger.sql("SELECT count(*) FROM transfers WHERE id IN (%s, %s) AND status ="
                      " 'PENDING'", (first, second)) == [(2,)]
    view = await ledger.balance(a)
    assert (view.available, view.pending_out) == (1000, 0)
    assert (await ledger.balance(b)).pending_in == 0
    # ...and can no longer be posted or voided.
    for action in (ledger.post(first), ledger.void(second)):
        with pytest.raises(HoldExpired):
            await action
    # A write that debits the payer releases them first ("release on touch").
    assert (await ledger.move(a, b, 1000)).rejection is None
    for hold_id in (first, second):
        details = await ledger.details(hold_id)
        assert details.transfer.status is TransferStatus.EXPIRED
        expire = [e for e in details.entries if e.kind == "EXPIRE"]
        assert len(expire) == 1 and expire[0].effective_at == details.expires_at
        assert expire[0].created_at > expire[0].effective_at  # written late, effective on time
    assert (await ledger.verify()).drift == 0


async def test_concurrent_sweepers_expire_a_due_hold_exactly_once(
        scratch_ledger: LedgerClient) -> None:
    ledger = scratch_ledger  # no API's sweeper runs on this database
    a, b = await ledger.open(funded=100), await ledger.open("bob")
    held = (await ledger.move(a, b, 100, hold_seconds=1)).transfer.id
    await wait_past(ledger, (await ledger.details(held)).expires_at)  # type: ignore[arg-type]
    sweeps = await asyncio.gather(*(expire_due(ledger.c.uow_factory) for _ in range(4)))
    assert sum(sweeps) >= 1
    details = await ledger.details(held)
    assert details.transfer.status is TransferStatus.EXPIRED
    assert [e.kind for e in details.entries] == ["HOLD", "EXPIRE"]  # released exactly once
    await expire_due(ledger.c.uow_factory)
    assert [e.kind for e in (await ledger.details(held)).entries] == ["HOLD", "EXPIRE"]
    assert (await ledger.balance(a)).available == 100


async def test_balance_as_of_is_computed_from_postings(scratch_ledger: LedgerClient) -> None:
    ledger = scratch_ledger  # no API's sweeper runs on this database
    a, b = await ledger.open(), await ledger.open("bob")
    t0 = ledger.db_now()
    await ledger.move(None, a, 1000)
    t1 = ledger.db_now()
    await ledger.move(a, b, 300)
    t2 = ledger.db_now()
    held = (await ledger.move(a, b, 200, hold_seconds=1)).transfer.id
    t3 = ledger.db_now()
    expires = (await ledger.details(held)).expires_at
    assert expires is not None
    await wait_past(ledger, expires)
    t4 = ledger.db_now()

    async def at(t: datetime) -> tuple[int, int, int, int]:
        v = await ledger.balance(a, t)
        return v.posted, v.pending_out, v.available, (await ledger.balance(b, t)).pending_in

    expected = {t0: (0, 0, 0, 0), t1: (1000, 0, 1000, 0), t2: (700, 0, 700, 0),
                t3: (700, 200, 500, 200), t4: (700, 0, 700, 0)}
    assert {t: await at(t) for t in expected} == expected  # before the hold is swept...
    assert await expire_due(ledger.c.uow_factory) >= 1
    assert {t: await at(t) for t in expected} == expected  # ...and after: the same history
    now = await ledger.balance(a)
    assert (now.posted, now.pending_out) == (await at(ledger.db_now()))[:2]


async def test_the_statement_pages_newest_first_with_a_running_balance(
        ledger: LedgerClient) -> None:
    a, b = await ledger.open(funded=10_000), await ledger.open("bob", funded=10_000)
    rng = random.Random(7)
    for _ in range(24):
        source, destination = (a, b) if rng.random() < 0.5 else (b, a)
        await ledger.move(source, destination, rng.randint(1, 500))
    await ledger.move(a, b, 50, hold=True)  # pending postings are not statement lines
    lines, before = [], None
    while True:
        page = await ledger.statement(a, before, 7)
        lines += page
        if len(page) < 7:
            break
        before = page[-1].seq
    seqs = [line.seq for line in lines]
    assert len(lines) == 25 and seqs == sorted(set(seqs), reverse=True)  # newest first, no dupes
    signed = [line.amount if line.direction == "CREDIT" else -line.amount for line in lines]
    for newer, older, amount in zip(lines, lines[1:], signed, strict=False):
        assert newer.balance_after == older.balance_after + amount
    assert lines[-1].balance_after == signed[-1] == 10_000  # the opening deposit
    assert lines[0].balance_after == (await ledger.balance(a)).posted
