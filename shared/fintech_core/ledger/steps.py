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
from uuid import UUID

from fintech_core.domain.errors import AccountNotFound
from fintech_core.ledger import entries, planning
from fintech_core.ledger.model import JournalEntry, LedgerAccount
from fintech_core.ledger.ports import LedgerRepository
from fintech_core.transfers.domain import TransferStatus
from fintech_core.transfers.pipeline import Replace, Step, TransferContext
from fintech_core.transfers.steps import completed


@dataclass(frozen=True)
class HoldRequest:
    timeout_seconds: int | None  # None: the hold lasts until posted or voided


@dataclass
class LedgerWork:
    """The ledger's part of a transfer's context (TransferContext.part): a caller seeds `hold`
    for a two-phase transfer; the steps fill the rest in order."""

    hold: HoldRequest | None = None
    entry: JournalEntry | None = None  # the journal entry this transfer appends, built at lock
    locked: dict[UUID, LedgerAccount] | None = None  # its ledger rows, locked with the accounts
    plan: planning.Plan | None = None

    @property
    def two_phase(self) -> bool:
        return self.hold is not None


def ledger_of(ctx: TransferContext) -> LedgerRepository:
    return ctx.uow.extension("ledger")  # type: ignore[no-any-return]


async def lock_accounts_and_ledger(ctx: TransferContext) -> None:
    cmd, work = ctx.command, ctx.part(LedgerWork)
    wanted = [i for i in (cmd.source_id, cmd.destination_id) if i is not None]
    work.entry = entries.for_command(ctx.transfer_id, cmd, two_phase=work.two_phase)
    ctx.accounts, work.locked = await ledger_of(ctx).lock_with_accounts(
        wanted, *planning.lock_sets(work.entry))
    for account_id in wanted:
        if account_id not in ctx.accounts:
            raise AccountNotFound(f"account {account_id} does not exist",
                                  account_id=str(account_id))


async def check_ledger(ctx: TransferContext) -> None:
    work = ctx.part(LedgerWork)
    if work.entry is None:  # a pipeline that locked without the ledger rows
        work.entry = entries.for_command(ctx.transfer_id, ctx.command, two_phase=work.two_phase)
    work.plan = await planning.plan(ledger_of(ctx), work.entry, work.locked)


async def post_ledger(ctx: TransferContext) -> None:
    plan = ctx.part(LedgerWork).plan
    assert plan is not None, "post_ledger runs after check_ledger"
    await planning.apply(ledger_of(ctx), plan)


async def record_ledger_transfer(ctx: TransferContext) -> None:
    hold = ctx.part(LedgerWork).hold
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
