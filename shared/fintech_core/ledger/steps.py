"""Phase 1's transfer-pipeline steps: the balance-column steps swapped for ledger steps.

    phase 0: lock_accounts, check_currency, check_status, check_funds,  move_balances,
             record_transfer
    phase 1: lock_accounts, check_currency, check_status, check_ledger, post_ledger,
             record_ledger_transfer

`check_ledger` plans the journal entry (locks, simulates the overdraft policy) and writes
nothing, so a rejection still leaves no partial movement; the two effects append the planned
entries and record the transfer (PENDING for a hold). Holds travel the same pipeline as transfers,
so whatever later phases insert (auth, limits, fraud, outbox) applies to them too.
"""

from __future__ import annotations

from dataclasses import dataclass

from fintech_core.domain.transfers import TransferStatus
from fintech_core.ledger import entries, planning
from fintech_core.ledger.ports import LedgerRepository
from fintech_core.service.pipeline import Replace, Step, TransferContext
from fintech_core.service.transfer_steps import completed

HOLD = "ledger.hold"  # ctx.notes key: a HoldRequest when the caller asked for a two-phase transfer
PLAN = "ledger.plan"


@dataclass(frozen=True)
class HoldRequest:
    timeout_seconds: int | None  # None: the hold lasts until posted or voided


def ledger_of(ctx: TransferContext) -> LedgerRepository:
    return ctx.uow.extension("ledger")  # type: ignore[no-any-return]


async def check_ledger(ctx: TransferContext) -> None:
    entry = entries.for_command(ctx.transfer_id, ctx.command, two_phase=HOLD in ctx.notes)
    ctx.notes[PLAN] = await planning.plan(ledger_of(ctx), entry)


async def post_ledger(ctx: TransferContext) -> None:
    await planning.apply(ledger_of(ctx), ctx.notes[PLAN])


async def record_ledger_transfer(ctx: TransferContext) -> None:
    hold: HoldRequest | None = ctx.notes.get(HOLD)
    ctx.transfer = completed(ctx, TransferStatus.PENDING if hold else TransferStatus.COMPLETED)
    await ctx.uow.transfers.add(ctx.transfer)
    if hold is not None:
        await ledger_of(ctx).add_hold(ctx.transfer_id, hold.timeout_seconds)


LEDGER_STEPS = (
    Replace("check_funds", Step("check_ledger", "check", check_ledger)),
    Replace("move_balances", Step("post_ledger", "effect", post_ledger)),
    Replace("record_transfer", Step("record_ledger_transfer", "effect", record_ledger_transfer)),
)
