"""Phase 0's transfer steps: lock, check, move a balance column, record the transfer.

Safe from races because every step runs inside one transaction after `lock_accounts` has taken
row locks on both accounts (ascending id order: no deadlock). Between the lock and the commit no
other transfer can read a stale balance, so two requests racing for the last 100 cannot both pass
`check_funds`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fintech_core.domain.errors import AccountNotFound, CurrencyMismatch, InsufficientFunds
from fintech_core.transfers.domain import Transfer, TransferStatus
from fintech_core.transfers.pipeline import Pipeline, Step, TransferContext


async def lock_accounts(ctx: TransferContext) -> None:
    cmd = ctx.command
    wanted = [i for i in (cmd.source_id, cmd.destination_id) if i is not None]
    ctx.accounts = await ctx.uow.accounts.lock(wanted)
    for account_id in wanted:
        if account_id not in ctx.accounts:
            raise AccountNotFound(f"account {account_id} does not exist",
                                  account_id=str(account_id))


async def check_currency(ctx: TransferContext) -> None:
    for account in ctx.accounts.values():
        if account.currency != ctx.command.currency:
            raise CurrencyMismatch(
                f"account {account.id} holds {account.currency}, the transfer is in "
                f"{ctx.command.currency}", account_id=str(account.id),
            )


async def check_status(ctx: TransferContext) -> None:
    for account in ctx.accounts.values():
        account.require_movable()


async def check_funds(ctx: TransferContext) -> None:
    source_id = ctx.command.source_id
    if source_id is None:
        return  # a deposit: the money comes from outside the lab
    source = ctx.accounts[source_id]
    if source.balance < ctx.command.amount:
        raise InsufficientFunds(
            f"account {source.id} has {source.balance}, the transfer needs {ctx.command.amount}",
            account_id=str(source.id), balance=source.balance, amount=ctx.command.amount,
        )


async def move_balances(ctx: TransferContext) -> None:
    cmd = ctx.command
    assert cmd.destination_id is not None, "phase 0 has no withdrawals"
    deltas = {cmd.destination_id: cmd.amount}
    if cmd.source_id is not None:
        deltas[cmd.source_id] = -cmd.amount
    await ctx.uow.accounts.apply_deltas(deltas)


def completed(ctx: TransferContext, status: TransferStatus = TransferStatus.COMPLETED,
              failure_code: str | None = None) -> Transfer:
    cmd = ctx.command
    return Transfer(
        id=ctx.transfer_id, kind=cmd.kind, source_id=cmd.source_id,
        destination_id=cmd.destination_id, amount=cmd.amount, currency=cmd.currency,
        status=status, reference=cmd.reference, failure_code=failure_code,
        created_at=datetime.now(UTC),
    )


async def record_transfer(ctx: TransferContext) -> None:
    ctx.transfer = completed(ctx)
    await ctx.uow.transfers.add(ctx.transfer)


PHASE0_STEPS = (
    Step("lock_accounts", "check", lock_accounts),
    Step("check_currency", "check", check_currency),
    Step("check_status", "check", check_status),
    Step("check_funds", "check", check_funds),
    Step("move_balances", "effect", move_balances),
    Step("record_transfer", "effect", record_transfer),
)


def phase0_pipeline() -> Pipeline:
    return Pipeline(PHASE0_STEPS).validated()
