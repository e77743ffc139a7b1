"""Phase 1's rules on the real PostgreSQL: every movement is a balanced entry, the overdraft
policy holds, holds follow their state machine, reversals happen once, verify sees no drift."""

from __future__ import annotations

import asyncio
from uuid import UUID

import pytest

from fintech_core.domain.errors import AccountFrozen, InsufficientFunds, TransferNotFound
from fintech_core.ledger.errors import (
    AlreadyReversed,
    NotAHold,
    PostExceedsHold,
    TransferNotPending,
    TransferNotReversible,
)
from fintech_core.ledger.system import SystemRole, system_account
from fintech_core.transfers.domain import TransferStatus
from tests.integration.ledger_client import LedgerClient

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

CASH_IN = system_account(SystemRole.CASH_IN, "EUR").id
CASH_OUT = system_account(SystemRole.CASH_OUT, "EUR").id


def entry_rows(ledger: LedgerClient, transfer_id: UUID) -> list[tuple[object, ...]]:
    return ledger.sql(
        "SELECT j.kind, p.account_id, p.bucket, p.signed_amount FROM journal_entries j"
        " JOIN postings p ON p.journal_id = j.id WHERE j.transfer_id = %s ORDER BY p.id",
        (transfer_id,))


def state(ledger: LedgerClient) -> tuple[object, ...]:
    """Everything a refused command could have changed."""
    return tuple(ledger.sql(q) for q in (
        "SELECT id, posted, pending_out, pending_in, version FROM ledger_accounts ORDER BY id",
        "SELECT count(*) FROM postings", "SELECT id, status FROM transfers ORDER BY id",
        "SELECT count(*) FROM transfer_events"))


async def test_every_movement_is_a_balanced_entry_against_named_accounts(
        ledger: LedgerClient) -> None:
    a, b = await ledger.open(funded=1000), await ledger.open("bob")
    deposit = ledger.sql("SELECT id FROM transfers WHERE destination_id = %s", (a,))[0][0]
    assert sorted(entry_rows(ledger, deposit), key=str) == sorted(
        [("DEPOSIT", CASH_IN, "POSTED", -1000), ("DEPOSIT", a, "POSTED", 1000)], key=str)
    moved = await ledger.move(a, b, 300)
    assert [r[1:] for r in entry_rows(ledger, moved.transfer.id)] == [
        (b, "POSTED", 300), (a, "POSTED", -300)]  # the credit is applied before the debit
    out = await ledger.move(b, None, 100)
    assert {r[1] for r in entry_rows(ledger, out.transfer.id)} == {b, CASH_OUT}
    assert ((await ledger.balance(a)).posted, (await ledger.balance(b)).posted) == (700, 200)
    assert ledger.sql("SELECT balance FROM accounts WHERE id = %s", (b,)) == [(200,)]
    assert (await ledger.verify()).drift == 0


async def test_overdraft_policy_default_zero_and_credit_limits(ledger: LedgerClient) -> None:
    a, b = await ledger.open(funded=100), await ledger.open("bob", credit_limit=50)
    refused = await ledger.move(a, b, 101)
    assert isinstance(refused.rejection, InsufficientFunds)
    assert refused.transfer.status is TransferStatus.FAILED
    assert entry_rows(ledger, refused.transfer.id) == []  # a FAILED transfer moves nothing
    assert (await ledger.move(b, a, 50)).rejection is None  # down to -50: the limit
    assert (await ledger.balance(b)).available == -50
    assert isinstance((await ledger.move(b, a, 1)).rejection, InsufficientFunds)
    assert isinstance((await ledger.move(b, None, 1)).rejection, InsufficientFunds)


async def test_a_hold_reserves_then_posts_partially_and_releases_the_rest(
        ledger: LedgerClient) -> None:
    a, b = await ledger.open(funded=1000), await ledger.open("bob")
    held = (await ledger.move(a, b, 400, hold=True)).transfer
    assert held.status is TransferStatus.PENDING
    pa, pb = await ledger.balance(a), await ledger.balance(b)
    assert (pa.posted, pa.pending_out, pa.available, pa.pending) == (1000, 400, 600, 600)
    assert (pb.posted, pb.pending_in, pb.available, pb.pending) == (0, 400, 0, 400)
    assert isinstance((await ledger.move(a, b, 601)).rejection, InsufficientFunds)
    await ledger.post(held.id, 150)
    pa, pb = await ledger.balance(a), await ledger.balance(b)
    assert (pa.posted, pa.pending_out, pa.available) == (850, 0, 850)
    assert (pb.posted, pb.pending_in) == (150, 0)
    details = await ledger.details(held.id)
    assert details.transfer.status is TransferStatus.COMPLETED and details.posted_amount == 150
    assert [(h.from_status, h.to_status) for h in details.history] == [
        (None, "PENDING"), ("PENDING", "COMPLETED")]
    assert [e.kind for e in details.entries] == ["HOLD", "POST"]
    assert (await ledger.verify()).drift == 0


async def test_void_releases_everything(ledger: LedgerClient) -> None:
    a, b = await ledger.open(funded=500), await ledger.open("bob")
    held = (await ledger.move(a, b, 500, hold=True)).transfer.id
    await ledger.void(held)
    assert (await ledger.balance(a)).available == 500 and (await ledger.balance(b)).pending == 0
    assert (await ledger.details(held)).transfer.status is TransferStatus.VOIDED


@pytest.mark.parametrize(("first", "then", "error"), [
    ("void", "post", TransferNotPending), ("post", "void", TransferNotPending),
    ("void", "void", TransferNotPending), ("post", "post", TransferNotPending),
    (None, "post-too-much", PostExceedsHold),
])
async def test_illegal_transitions_are_refused_and_change_nothing(
        ledger: LedgerClient, first: str | None, then: str, error: type[Exception]) -> None:
    a, b = await ledger.open(funded=500), await ledger.open("bob")
    held = (await ledger.move(a, b, 300, hold=True)).transfer.id
    actions = {"void": lambda: ledger.void(held), "post": lambda: ledger.post(held),
               "post-too-much": lambda: ledger.post(held, 301)}
    if first:
        await actions[first]()
    before = state(ledger)
    with pytest.raises(error):
        await actions[then]()
    assert state(ledger) == before


async def test_post_and_void_need_a_hold(ledger: LedgerClient) -> None:
    a, b = await ledger.open(funded=500), await ledger.open("bob")
    plain = (await ledger.move(a, b, 100)).transfer.id
    with pytest.raises(NotAHold):
        await ledger.post(plain)
    with pytest.raises(TransferNotFound):
        await ledger.void(UUID(int=1))


async def test_a_frozen_account_cannot_receive_a_posted_hold(ledger: LedgerClient) -> None:
    a, b = await ledger.open(funded=500), await ledger.open("bob")
    held = (await ledger.move(a, b, 100, hold=True)).transfer.id
    ledger.sql("UPDATE accounts SET status = 'FROZEN' WHERE id = %s", (b,))
    with pytest.raises(AccountFrozen):
        await ledger.post(held)
    await ledger.void(held)  # releasing a reservation is always allowed


async def test_a_reversal_is_a_new_linked_transfer_and_happens_once(
        ledger: LedgerClient) -> None:
    a, b = await ledger.open(funded=1000), await ledger.open("bob")
    original = (await ledger.move(a, b, 250)).transfer.id
    reversal = await ledger.reverse(original)
    assert ((await ledger.balance(a)).posted, (await ledger.balance(b)).posted) == (1000, 0)
    details = await ledger.details(reversal)
    assert details.transfer.kind.value == "REVERSAL" and details.reverses_id == original
    assert (details.transfer.source_id, details.transfer.destination_id) == (b, a)
    assert (await ledger.details(original)).reversed_by == reversal
    assert (await ledger.details(original)).transfer.status is TransferStatus.COMPLETED
    before = state(ledger)
    with pytest.raises(AlreadyReversed):
        await ledger.reverse(original)
    with pytest.raises(TransferNotReversible):
        await ledger.reverse(reversal)  # a reversal is not reversed; make a new transfer
    assert state(ledger) == before


async def test_reversals_of_deposits_holds_and_failures(ledger: LedgerClient) -> None:
    a, b = await ledger.open(funded=1000), await ledger.open("bob")
    deposit = ledger.sql("SELECT id FROM transfers WHERE destination_id = %s", (a,))[0][0]
    held = (await ledger.move(a, b, 400, hold=True)).transfer.id
    with pytest.raises(TransferNotReversible):
        await ledger.reverse(held)  # PENDING: void it instead
    await ledger.post(held, 100)
    reversal = await ledger.reverse(held)  # reverses what moved (100), not what was held
    assert (await ledger.details(reversal)).transfer.amount == 100
    failed = (await ledger.move(b, a, 10**6)).transfer.id
    with pytest.raises(TransferNotReversible):
        await ledger.reverse(failed)
    await ledger.reverse(deposit)  # the money goes back out through cash-in
    assert (await ledger.balance(a)).posted == 0
    assert (await ledger.verify()).drift == 0


async def test_two_concurrent_reversals_produce_exactly_one(ledger: LedgerClient) -> None:
    a, b = await ledger.open(funded=1000), await ledger.open("bob")
    original = (await ledger.move(a, b, 250)).transfer.id
    results = await asyncio.gather(*(ledger.reverse(original) for _ in range(8)),
                                   return_exceptions=True)
    assert sum(isinstance(r, UUID) for r in results) == 1
    assert all(isinstance(r, UUID | AlreadyReversed) for r in results), results
    assert (await ledger.balance(b)).posted == 0


async def test_balances_stay_inside_the_ledgers_range(scratch_ledger: LedgerClient) -> None:
    """Refused with a problem before PostgreSQL's bigint would overflow (a 500)."""
    from fintech_core.ledger.errors import LedgerLimitExceeded

    ledger = scratch_ledger
    a, b = await ledger.open(), await ledger.open("bob")
    assert (await ledger.move(None, a, 2**63 - 1)).rejection is None
    with pytest.raises(LedgerLimitExceeded):  # @external:cash-in would pass -(2^63 - 1)
        await ledger.move(None, b, 1)
    assert (await ledger.verify()).drift == 0
