"""Phase 1's transfer-pipeline steps: the balance-column steps swapped for ledger steps.

    phase 0: lock_accounts, check_currency, check_status, check_funds,  move_balances,
             record_transfer
    phase 1: lock_accounts, check_currency, check_status, check_ledger, post_ledger,
             record_ledger_transfer

Phase 1's `lock_accounts` keeps its name and its promise (the accounts rows locked in id order,
a missing account is account-not-found) and also locks the entry's ledger rows in the same
statement, which `check_ledger` then plans on: one statement fewer per transfer, and the hot
account's row is held one round trip less (bench/README.md).

`check_ledger` plans the journal entry (locks, simulates the overdraft policy) and writes
nothing, so a rejection still leaves no partial movement; the two effects append the planned
entries and record the transfer (PENDING for a hold). Holds travel the same pipeline as transfers,
so whatever later phases insert (auth, limits, fraud, outbox) applies to them too.
"""

from __future__ import annotations

from dataclasses import dataclass

from fintech_core.domain.errors import AccountNotFound
from fintech_core.domain.transfers import TransferStatus
from fintech_core.ledger import entries, planning
from fintech_core.ledger.ports import LedgerRepository
from fintech_core.service.pipeline import Replace, Step, TransferContext
from fintech_core.service.transfer_steps import completed

HOLD = "ledger.hold"  # ctx.notes key: a HoldRequest when the caller asked for a two-phase transfer
PLAN = "ledger.plan"
ENTRY = "ledger.entry"  # the journal entry this transfer will append, built when locking
LOCKED = "ledger.locked"  # its ledger rows, locked together with the accounts rows


@dataclass(frozen=True)
class HoldRequest:
    timeout_seconds: int | None  # None: the hold lasts until posted or voided


def ledger_of(ctx: TransferContext) -> LedgerRepository:
    return ctx.uow.extension("ledger")  # type: ignore[no-any-return]


async def lock_accounts_and_ledger(ctx: TransferContext) -> None:
    cmd = ctx.command
    wanted = [i for i in (cmd.source_id, cmd.destination_id) if i is not None]
    entry = entries.for_command(ctx.transfer_id, cmd, two_phase=HOLD in ctx.notes)
    ctx.accounts, ctx.notes[LOCKED] = await ledger_of(ctx).lock_with_accounts(
        wanted, *planning.lock_sets(entry))
    ctx.notes[ENTRY] = entry
    for account_id in wanted:
        if account_id not in ctx.accounts:
            raise AccountNotFound(f"account {account_id} does not exist",
                                  account_id=str(account_id))


async def check_ledger(ctx: TransferContext) -> None:
    entry = ctx.notes.get(ENTRY) or entries.for_command(ctx.transfer_id, ctx.command,
                                                        two_phase=HOLD in ctx.notes)
    ctx.notes[PLAN] = await planning.plan(ledger_of(ctx), entry, ctx.notes.get(LOCKED))


async def post_ledger(ctx: TransferContext) -> None:
    await planning.apply(ledger_of(ctx), ctx.notes[PLAN])


async def record_ledger_transfer(ctx: TransferContext) -> None:
    hold: HoldRequest | None = ctx.notes.get(HOLD)
    ctx.transfer = completed(ctx, TransferStatus.PENDING if hold else TransferStatus.COMPLETED)
    await ctx.uow.transfers.add(ctx.transfer)
    if hold is not None:
        await ledger_of(ctx).add_hold(ctx.transfer_id, hold.timeout_seconds)


LEDGER_STEPS = (
    Replace("lock_accounts", Step("lock_accounts", "check", lock_accounts_and_ledger)),
    Replace("check_funds", Step("check_ledger", "check", check_ledger)),
    Replace("move_balances", Step("post_ledger", "effect", post_ledger)),
    Replace("record_transfer", Step("record_ledger_transfer", "effect", record_ledger_transfer)),
)
