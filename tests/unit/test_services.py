"""Use cases against the in-memory fakes: transfers, idempotent execution, and the fakes' own
promises (the ones the SQL adapters keep, so that a green unit test means something)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

import pytest
from psycopg.errors import CheckViolation, UniqueViolation

from fintech_core.accounts.domain import Account
from fintech_core.accounts.service import change_status, open_account
from fintech_core.domain.errors import (
    AccountNotFound,
    CurrencyMismatch,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
)
from fintech_core.idempotency.ports import StoredResponse
from fintech_core.idempotency.runner import run_idempotently
from fintech_core.service.ports import UnitOfWork
from fintech_core.testing.memory import MemoryUnitOfWork, MemoryUnitOfWorkFactory
from fintech_core.transfers.domain import TransferCommand, TransferKind, TransferStatus
from fintech_core.transfers.pipeline import Append, Step, TransferContext
from fintech_core.transfers.service import TransferOutcome, TransferService
from fintech_core.transfers.steps import phase0_pipeline

T = TypeVar("T")
SERVICE = TransferService(phase0_pipeline())
MISSING = UUID("00000000-0000-7000-8000-00000000dead")


def run(coro: Awaitable[T]) -> T:
    async def main() -> T:
        return await coro
    return asyncio.run(main())


def seeded(*balances: int, currency: str = "EUR") -> tuple[MemoryUnitOfWorkFactory, list[UUID]]:
    """A fake database holding one committed account per balance."""
    factory = MemoryUnitOfWorkFactory()

    async def seed() -> list[UUID]:
        async with factory() as uow:
            ids = []
            for balance in balances:
                account = await open_account(uow, "alice", currency)
                await uow.accounts.apply_deltas({account.id: balance})
                ids.append(account.id)
            await uow.commit()
        return ids
    return factory, run(seed())


def balances(factory: MemoryUnitOfWorkFactory, ids: list[UUID]) -> list[int]:
    return [factory.state.accounts[i].balance for i in ids]


async def transfer(factory: MemoryUnitOfWorkFactory, command: TransferCommand) -> TransferOutcome:
    async with factory() as uow:
        outcome = await SERVICE.execute(uow, command, "alice")
        await uow.commit()
    return outcome


# --- TransferService with the phase-0 pipeline ------------------------------------------------

def test_a_transfer_moves_the_balances_and_records_completed() -> None:
    factory, (a, b) = seeded(500, 20)
    outcome = run(transfer(factory, TransferCommand(a, b, 120, "EUR", "rent")))
    assert outcome.rejection is None
    assert balances(factory, [a, b]) == [380, 140]
    stored = factory.state.transfers[outcome.transfer.id]
    assert stored == outcome.transfer
    assert (stored.status, stored.kind, stored.amount) == (TransferStatus.COMPLETED,
                                                           TransferKind.TRANSFER, 120)
    assert (stored.source_id, stored.destination_id, stored.reference) == (a, b, "rent")
    assert stored.failure_code is None


def test_a_deposit_credits_the_destination_only() -> None:
    factory, (a,) = seeded(0)
    outcome = run(transfer(factory, TransferCommand(None, a, 75, "EUR")))
    assert balances(factory, [a]) == [75]
    assert factory.state.transfers[outcome.transfer.id].kind is TransferKind.DEPOSIT


def test_insufficient_funds_records_a_failed_transfer_and_moves_nothing() -> None:
    factory, (a, b) = seeded(100, 0)
    outcome = run(transfer(factory, TransferCommand(a, b, 101, "EUR")))
    assert outcome.rejection is not None and outcome.rejection.code == "insufficient-funds"
    assert balances(factory, [a, b]) == [100, 0]
    stored = factory.state.transfers[outcome.transfer.id]
    assert (stored.status, stored.failure_code) == (TransferStatus.FAILED, "insufficient-funds")


def test_the_last_100_can_be_spent_only_once() -> None:
    factory, (a, b) = seeded(150, 0)
    first = run(transfer(factory, TransferCommand(a, b, 100, "EUR")))
    second = run(transfer(factory, TransferCommand(a, b, 100, "EUR")))
    assert [first.transfer.status, second.transfer.status] == [TransferStatus.COMPLETED,
                                                               TransferStatus.FAILED]
    assert balances(factory, [a, b]) == [50, 100]


@pytest.mark.parametrize(("which", "transition", "code"), [
    (0, Account.frozen, "account-frozen"),   # the source
    (1, Account.frozen, "account-frozen"),   # the destination: a freeze stops both directions
    (1, Account.closed, "account-closed"),   # only an empty account can be closed
])
def test_a_frozen_or_closed_account_records_a_failed_transfer(
        which: int, transition: Callable[[Account], Account], code: str) -> None:
    factory, ids = seeded(300, 0)

    async def scenario() -> TransferOutcome:
        async with factory() as uow:
            await change_status(uow, ids[which], transition)
            await uow.commit()
        return await transfer(factory, TransferCommand(ids[0], ids[1], 50, "EUR"))

    outcome = run(scenario())
    assert (outcome.transfer.status, outcome.transfer.failure_code) == (TransferStatus.FAILED,
                                                                        code)
    assert outcome.rejection is not None and outcome.rejection.code == code
    assert balances(factory, ids) == [300, 0]
    assert list(factory.state.transfers) == [outcome.transfer.id]


def test_an_unknown_account_raises_and_records_nothing() -> None:
    factory, (a,) = seeded(100)
    for command in (TransferCommand(a, MISSING, 10, "EUR"), TransferCommand(MISSING, a, 10, "EUR"),
                    TransferCommand(None, MISSING, 10, "EUR")):
        with pytest.raises(AccountNotFound) as info:
            run(transfer(factory, command))
        assert info.value.extra["account_id"] == str(MISSING)
    assert factory.state.transfers == {}
    assert balances(factory, [a]) == [100]


def test_a_currency_mismatch_raises_and_records_nothing() -> None:
    factory, (a, b) = seeded(100, 0)
    with pytest.raises(CurrencyMismatch):
        run(transfer(factory, TransferCommand(a, b, 10, "USD")))
    assert factory.state.transfers == {}
    assert balances(factory, [a, b]) == [100, 0]


def test_a_step_failing_after_the_money_moved_leaves_nothing_behind() -> None:
    async def boom(ctx: TransferContext) -> None:
        raise RuntimeError("crash after the effects")

    service = TransferService(phase0_pipeline().apply(Append(Step("boom", "effect", boom))))
    factory, (a, b) = seeded(100, 0)

    async def scenario() -> None:
        async with factory() as uow:
            await service.execute(uow, TransferCommand(a, b, 60, "EUR"), "alice")
            await uow.commit()

    with pytest.raises(RuntimeError):
        run(scenario())
    assert balances(factory, [a, b]) == [100, 0]
    assert factory.state.transfers == {}


# --- run_idempotently -------------------------------------------------------------------------

class CountingTransfer:
    """An idempotent operation that moves money and counts how often it really ran."""

    def __init__(self, command: TransferCommand, fail: bool = False) -> None:
        self.command, self.fail, self.calls = command, fail, 0

    async def __call__(self, uow: UnitOfWork) -> StoredResponse:
        self.calls += 1
        outcome = await SERVICE.execute(uow, self.command, "alice")
        if self.fail:
            raise RuntimeError("the process died before commit")
        return StoredResponse(201, {"id": str(outcome.transfer.id), "n": self.calls},
                              {"Location": f"/transfers/{outcome.transfer.id}"})


def idempotently(factory: MemoryUnitOfWorkFactory, key: str | None, fp: str,
                 op: CountingTransfer) -> tuple[StoredResponse, bool]:
    return run(run_idempotently(factory, "alice", key, fp, op))


def test_same_key_and_fingerprint_replays_the_first_response_and_runs_once() -> None:
    factory, (a, b) = seeded(100, 0)
    op = CountingTransfer(TransferCommand(a, b, 30, "EUR"))
    first, first_replayed = idempotently(factory, "k1", "fp", op)
    again, again_replayed = idempotently(factory, "k1", "fp", op)
    assert (first_replayed, again_replayed) == (False, True)
    assert again == first
    assert first.body["n"] == 1 and op.calls == 1
    assert balances(factory, [a, b]) == [70, 30]
    assert len(factory.state.transfers) == 1


def test_same_key_with_another_fingerprint_is_refused() -> None:
    factory, (a, b) = seeded(100, 0)
    op = CountingTransfer(TransferCommand(a, b, 30, "EUR"))
    idempotently(factory, "k1", "fp-1", op)
    with pytest.raises(IdempotencyKeyReused):
        idempotently(factory, "k1", "fp-2", op)
    assert op.calls == 1
    assert balances(factory, [a, b]) == [70, 30]


def test_keys_are_scoped_per_principal() -> None:
    factory, (a, b) = seeded(100, 0)
    op = CountingTransfer(TransferCommand(a, b, 30, "EUR"))
    run(run_idempotently(factory, "alice", "k1", "fp", op))
    _, replayed = run(run_idempotently(factory, "bob", "k1", "fp", op))
    assert replayed is False and op.calls == 2


def test_an_operation_that_raises_commits_nothing_and_leaves_the_key_unused() -> None:
    factory, (a, b) = seeded(100, 0)
    failing = CountingTransfer(TransferCommand(a, b, 30, "EUR"), fail=True)
    with pytest.raises(RuntimeError):
        idempotently(factory, "k1", "fp", failing)
    assert balances(factory, [a, b]) == [100, 0]
    assert factory.state.transfers == {} and factory.state.keys == {}
    assert factory.holders == {}  # the in-flight lock ended with the transaction

    retry = CountingTransfer(TransferCommand(a, b, 30, "EUR"))
    response, replayed = idempotently(factory, "k1", "fp", retry)
    assert (replayed, retry.calls, response.status) == (False, 1, 201)
    assert balances(factory, [a, b]) == [70, 30]


def test_without_a_key_the_operation_runs_every_time() -> None:
    factory, (a, b) = seeded(100, 0)
    op = CountingTransfer(TransferCommand(a, b, 30, "EUR"))
    results = [idempotently(factory, None, "fp", op) for _ in range(3)]
    assert [replayed for _, replayed in results] == [False, False, False]
    assert op.calls == 3
    assert balances(factory, [a, b]) == [10, 90]
    assert factory.state.keys == {}


# --- the fakes keep the SQL adapters' promises ------------------------------------------------

def test_writes_are_visible_to_others_only_after_commit() -> None:
    factory, (a,) = seeded(100)

    async def scenario() -> list[int]:
        seen = []
        async with factory() as writer, factory() as reader:
            await writer.accounts.apply_deltas({a: 5})
            seen.append((await writer.accounts.get(a)).balance)  # type: ignore[union-attr]
            seen.append((await reader.accounts.get(a)).balance)  # type: ignore[union-attr]
            await writer.commit()
            seen.append((await reader.accounts.get(a)).balance)  # type: ignore[union-attr]
        return seen
    assert run(scenario()) == [105, 100, 105]


def test_leaving_without_commit_discards_every_write() -> None:
    factory, (a,) = seeded(100)

    async def scenario() -> None:
        async with factory() as uow:
            await uow.accounts.apply_deltas({a: 1})
            await open_account(uow, "bob", "EUR")
    run(scenario())
    assert list(factory.state.accounts) == [a]
    assert balances(factory, [a]) == [100]


def test_a_negative_balance_is_refused_and_the_statement_changes_nothing() -> None:
    factory, (a, b) = seeded(100, 0)

    async def scenario() -> tuple[int, int]:
        async with factory() as uow:
            await uow.accounts.apply_deltas({b: 10})
            with pytest.raises(CheckViolation):
                await uow.accounts.apply_deltas({b: 50, a: -101})  # both legs or neither
            after = ((await uow.accounts.get(a)).balance,  # type: ignore[union-attr]
                     (await uow.accounts.get(b)).balance)  # type: ignore[union-attr]
            await uow.commit()
        return after
    assert run(scenario()) == (100, 10)
    assert balances(factory, [a, b]) == [100, 10]


def test_duplicate_ids_are_refused() -> None:
    factory, (a,) = seeded(0)

    async def scenario() -> None:
        async with factory() as uow:
            await uow.accounts.add(factory.state.accounts[a])
    with pytest.raises(UniqueViolation):
        run(scenario())


def test_page_orders_by_id_and_filters_by_cursor_and_owner() -> None:
    factory = MemoryUnitOfWorkFactory()

    async def scenario() -> tuple[list[UUID], ...]:
        async with factory() as uow:
            for owner in ["bob", "alice", "bob", "alice", "bob"]:
                await open_account(uow, owner, "EUR")
            await uow.commit()
        async with factory() as uow:
            everyone = [x.id for x in await uow.accounts.page(None, 10, None)]
            first = [x.id for x in await uow.accounts.page(None, 2, None)]
            rest = [x.id for x in await uow.accounts.page(first[-1], 10, None)]
            bobs = [x.id for x in await uow.accounts.page(None, 10, "bob")]
            nobody = [x.id for x in await uow.accounts.page(None, 10, "carol")]
        return everyone, first, rest, bobs, nobody
    everyone, first, rest, bobs, nobody = run(scenario())
    assert everyone == sorted(factory.state.accounts) and len(everyone) == 5
    assert first == everyone[:2] and rest == everyone[2:]
    assert bobs == [everyone[0], everyone[2], everyone[4]]
    assert nobody == []


def test_lock_returns_only_the_accounts_that_exist() -> None:
    factory, (a, b) = seeded(1, 2)

    async def scenario() -> dict[UUID, Account]:
        async with factory() as uow:
            return await uow.accounts.lock([b, MISSING, a])
    locked = run(scenario())
    assert sorted(locked) == sorted([a, b])
    assert locked[b].balance == 2


def test_a_claimed_key_is_in_flight_until_its_unit_of_work_ends() -> None:
    factory = MemoryUnitOfWorkFactory()

    async def scenario() -> None:
        async with factory() as first:
            assert await first.idempotency.claim("alice", "k") is None
            assert await first.idempotency.claim("alice", "k") is None  # re-entrant for itself
            async with factory() as second:
                with pytest.raises(IdempotencyKeyInFlight):
                    await second.idempotency.claim("alice", "k")
                assert await second.idempotency.claim("bob", "k") is None
        async with factory() as third:
            assert await third.idempotency.claim("alice", "k") is None
    run(scenario())
    assert factory.holders == {}


def test_commit_releases_the_claim_and_publishes_the_response() -> None:
    factory = MemoryUnitOfWorkFactory()
    response = StoredResponse(201, {"id": "t1"})

    async def scenario() -> Any:
        async with factory() as first:
            await first.idempotency.claim("alice", "k")
            await first.idempotency.save("alice", "k", "fp", response)
            await first.commit()
            async with factory() as second:
                return await second.idempotency.claim("alice", "k")
    stored = run(scenario())
    assert (stored.fingerprint, stored.response) == ("fp", response)


def test_reap_removes_keys_older_than_the_cutoff_by_the_injected_clock() -> None:
    now = [datetime(2025, 1, 1, tzinfo=UTC)]
    factory = MemoryUnitOfWorkFactory(clock=lambda: now[0])

    async def save(key: str) -> None:
        async with factory() as uow:
            await uow.idempotency.save("alice", key, "fp", StoredResponse(200, {}))
            await uow.commit()

    async def reap(hours: int, commit: bool = True) -> int:
        async with factory() as uow:
            removed = await uow.idempotency.reap(hours)
            if commit:
                await uow.commit()
        return removed

    run(save("old"))
    now[0] += timedelta(hours=30)
    run(save("new"))
    now[0] += timedelta(hours=1)
    assert run(reap(24, commit=False)) == 1
    assert set(factory.state.keys) == {("alice", "old"), ("alice", "new")}  # rolled back
    assert run(reap(24)) == 1
    assert set(factory.state.keys) == {("alice", "new")}
    assert run(reap(24)) == 0


def test_extensions_are_built_once_per_unit_of_work_from_the_factories_given() -> None:
    built: list[MemoryUnitOfWork] = []

    def ledger(uow: MemoryUnitOfWork) -> tuple[str, MemoryUnitOfWork]:
        built.append(uow)
        return ("ledger", uow)

    factory = MemoryUnitOfWorkFactory(extensions={"ledger": ledger})

    async def scenario() -> None:
        async with factory() as one, factory() as two:
            assert one.extension("ledger") == ("ledger", one)
            assert one.extension("ledger") is one.extension("ledger")
            assert two.extension("ledger") == ("ledger", two)
            with pytest.raises(KeyError):
                one.extension("fraud")
    run(scenario())
    assert len(built) == 2
