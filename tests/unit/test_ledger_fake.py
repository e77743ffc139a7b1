"""The phase-1 use cases against the in-memory fakes: fast, no I/O, same rules as PostgreSQL.

Ends with a property test: any random sequence of deposits, transfers, withdrawals, holds, posts,
voids, expiries and reversals keeps the ledger balanced, within every credit limit, and
explained by its postings (verify: zero drift).
"""

from __future__ import annotations

from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fintech_core.domain.errors import DomainError, InsufficientFunds
from fintech_core.ledger import reversals, service
from fintech_core.ledger.errors import HoldExpired, TransferNotPending
from fintech_core.ledger.steps import HoldRequest, LedgerWork
from fintech_core.ledger.sweeper import expire_due
from fintech_core.transfers.domain import TransferCommand, TransferStatus
from fintech_core.transfers.service import TransferOutcome, TransferService
from phases import composition
from tests.unit.ledger_fakes import FakeUnitOfWorkFactory

pytestmark = pytest.mark.anyio
SERVICE = TransferService(composition(1).pipeline)


class Bank:
    def __init__(self) -> None:
        self.uow = FakeUnitOfWorkFactory()

    async def tx(self, work):  # type: ignore[no-untyped-def]
        async with self.uow() as uow:
            result = await work(uow)
            await uow.commit()
            return result

    async def open(self, limit: int = 0, funded: int = 0) -> UUID:
        account = await self.tx(lambda u: service.open_account(u, "x", "EUR", limit))
        if funded:
            await self.move(None, account.id, funded)
        return account.id  # type: ignore[no-any-return]

    async def move(self, src: UUID | None, dst: UUID | None, amount: int,
                   hold: int | None = None) -> TransferOutcome:
        parts = [LedgerWork(hold=HoldRequest(hold))] if hold else []
        cmd = TransferCommand(src, dst, amount, "EUR")
        return await self.tx(lambda u: SERVICE.execute(u, cmd, "t", parts))  # type: ignore[no-any-return]

    async def balance(self, account: UUID):  # type: ignore[no-untyped-def]
        async with self.uow() as uow:
            return await uow.extension("ledger_reads").balance(account, None)

    async def verify(self):  # type: ignore[no-untyped-def]
        async with self.uow() as uow:
            return await uow.extension("ledger_reads").verify()


async def test_the_pipeline_posts_balanced_entries_and_refuses_overdrafts() -> None:
    bank = Bank()
    a, b = await bank.open(funded=100), await bank.open(limit=10)
    assert (await bank.move(a, b, 60)).rejection is None
    refused = await bank.move(b, a, 71)
    assert isinstance(refused.rejection, InsufficientFunds)
    assert refused.transfer.status is TransferStatus.FAILED
    assert (await bank.move(b, None, 70)).rejection is None  # down to its limit, -10
    assert (await bank.balance(b)).posted == -10
    report = await bank.verify()
    assert report.drift == 0 and [(t.customers, t.system) for t in report.totals] == [(30, -30)]


async def test_a_refused_command_changes_nothing() -> None:
    bank = Bank()
    a, b = await bank.open(funded=100), await bank.open()
    held = (await bank.move(a, b, 40, hold=60)).transfer.id
    await bank.tx(lambda u: service.void(u, held))
    before = bank.uow.book
    with pytest.raises(TransferNotPending):
        await bank.tx(lambda u: service.post(u, held, None))
    assert bank.uow.book is before  # nothing was published


async def test_holds_expire_on_the_fake_clock() -> None:
    bank = Bank()
    a, b = await bank.open(funded=100), await bank.open()
    held = (await bank.move(a, b, 100, hold=5)).transfer.id
    assert (await bank.balance(a)).available == 0
    bank.uow.clock.advance(6)
    assert (await bank.balance(a)).available == 100  # released on read, before any sweep
    with pytest.raises(HoldExpired):
        await bank.tx(lambda u: service.post(u, held, None))
    assert await expire_due(bank.uow) == 1 and await expire_due(bank.uow) == 0
    assert bank.uow.book.transfers[held].status is TransferStatus.EXPIRED
    assert (await bank.verify()).drift == 0


ops = st.lists(st.tuples(st.sampled_from(["deposit", "move", "withdraw", "hold", "post",
                                          "void", "expire", "reverse", "tick"]),
                         st.integers(0, 3), st.integers(0, 3), st.integers(1, 300)),
               min_size=1, max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops)
def test_any_sequence_of_commands_keeps_the_ledger_exact(sequence: list[tuple[str, int, int,
                                                                                int]]) -> None:
    import anyio

    anyio.run(_run_sequence, sequence)


async def _run_sequence(sequence: list[tuple[str, int, int, int]]) -> None:
    bank = Bank()
    accounts = [await bank.open(limit=limit) for limit in (0, 0, 100, 500)]
    holds: list[UUID] = []
    done: list[UUID] = []
    for op, i, j, amount in sequence:
        a, b = accounts[i], accounts[j if j != i else (i + 1) % 4]
        try:
            if op in ("deposit", "move", "withdraw", "hold"):
                src, dst = {"deposit": (None, a), "move": (a, b), "withdraw": (a, None),
                            "hold": (a, b)}[op]
                out = await bank.move(src, dst, amount, hold=amount % 7 + 1 if op == "hold"
                                      else None)
                (holds if op == "hold" else done).append(out.transfer.id)
            elif op in ("post", "void") and holds:
                h = holds[amount % len(holds)]
                if op == "post":
                    await bank.tx(lambda u, h=h, n=amount % 50 + 1: service.post(u, h, n))
                else:
                    await bank.tx(lambda u, h=h: service.void(u, h))
            elif op == "expire":
                await expire_due(bank.uow)
            elif op == "reverse" and done:
                t = done[amount % len(done)]
                await bank.tx(lambda u, t=t: reversals.reverse(u, t, None))
            elif op == "tick":
                bank.uow.clock.advance(amount % 5)
        except DomainError:
            pass  # a refusal is an allowed outcome; what it must not do is change anything
        report = await bank.verify()
        assert report.drift == 0, (op, report)
        for account in bank.uow.book.ledger.values():
            if account.credit_limit is not None:
                assert account.available >= -account.credit_limit
