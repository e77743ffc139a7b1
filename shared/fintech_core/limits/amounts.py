"""Amount limits: a per-transfer maximum and a daily outgoing limit per source account, enforced
in the transfer's own PostgreSQL transaction, as two pipeline steps.

Why not a Redis counter: the count must roll back with the transfer. A Redis INCR done before a
transfer that then fails (insufficient funds, a crash before COMMIT) stays counted; one done
after COMMIT can be lost in a crash, and between check and INCR two transfers both fit. Here the
usage row is written by an effect step of the same transaction: it commits exactly when the
money moves.

Why it is race-free: `check_amount_limits` runs after `lock_accounts` (the pipeline's first
step), which holds the source account's row lock until COMMIT. Every transfer from that account
takes that lock first, so the checks of two transfers from one account run one after the other,
and the second one's SELECT (a new statement, hence a new READ COMMITTED snapshot, taken after
the lock was granted) sees the first one's committed usage. In a group-commit batch the
transfers of the batch run one after the other in one transaction; every `execute` first flushes
the held writes (db/write_behind.py), so transfer k's check sees the usage of transfers 1..k-1.
The `account_daily_outgoing_within_limit` trigger (p4_0001) refuses any write over the limit,
whoever makes it: the last line of defence, like the balance CHECK.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from fintech_core.db.write_behind import Session
from fintech_core.domain.errors import Rejected
from fintech_core.transfers.pipeline import Append, Change, InsertBefore, Step, TransferContext

EXTENSION = "amount_limits"


class TransferLimitExceeded(Rejected):
    code = "transfer-limit-exceeded"


class DailyLimitExceeded(Rejected):
    code = "daily-limit-exceeded"


@dataclass(frozen=True)
class AccountLimits:
    per_transfer_max: int | None
    daily_outgoing_max: int | None
    day: date  # the UTC day of this transaction
    sent_today: int


@dataclass
class LimitWork:
    """This transfer's limit state, between the check and the effect (a TransferContext part)."""

    count_on: date | None = None  # set when the daily total must grow by the amount


class SqlAmountLimits:
    def __init__(self, conn: Session) -> None:
        self.conn = conn

    async def of(self, account_id: UUID) -> AccountLimits | None:
        cur = await self.conn.execute(
            "SELECT l.per_transfer_max, l.daily_outgoing_max, d.day, COALESCE(u.amount, 0) "
            "FROM account_limits l "
            "CROSS JOIN (SELECT (transaction_timestamp() AT TIME ZONE 'UTC')::date AS day) d "
            "LEFT JOIN account_daily_outgoing u ON u.account_id = l.account_id AND u.day = d.day "
            "WHERE l.account_id = %s", (account_id,))
        row = await cur.fetchone()
        return AccountLimits(*row) if row else None

    async def add_outgoing(self, account_id: UUID, day: date, amount: int) -> None:
        await self.conn.hold(
            "account_daily_outgoing",
            "INSERT INTO account_daily_outgoing AS u (account_id, day, amount) VALUES (%s, %s, %s) "
            "ON CONFLICT (account_id, day) DO UPDATE SET amount = u.amount + excluded.amount",
            (account_id, day, amount))

    async def set_limits(self, account_id: UUID, per_transfer_max: int | None,
                         daily_outgoing_max: int | None) -> None:
        await self.conn.execute(
            "INSERT INTO account_limits (account_id, per_transfer_max, daily_outgoing_max) "
            "VALUES (%s, %s, %s) ON CONFLICT (account_id) DO UPDATE SET "
            "per_transfer_max = excluded.per_transfer_max, "
            "daily_outgoing_max = excluded.daily_outgoing_max, updated_at = now()",
            (account_id, per_transfer_max, daily_outgoing_max))


async def check_amount_limits(ctx: TransferContext) -> None:
    source = ctx.command.source_id
    if source is None:
        return  # a deposit: money from outside the lab leaves no account
    limits: AccountLimits | None = await ctx.uow.extension(EXTENSION).of(source)
    if limits is None:
        return
    amount = ctx.command.amount
    if limits.per_transfer_max is not None and amount > limits.per_transfer_max:
        raise TransferLimitExceeded(
            f"{amount} is above account {source}'s per-transfer maximum of "
            f"{limits.per_transfer_max}", account_id=str(source), limit=limits.per_transfer_max)
    if limits.daily_outgoing_max is not None:
        if limits.sent_today + amount > limits.daily_outgoing_max:
            raise DailyLimitExceeded(
                f"account {source} sent {limits.sent_today} on {limits.day}; {amount} more "
                f"would pass its daily limit of {limits.daily_outgoing_max}",
                account_id=str(source), limit=limits.daily_outgoing_max,
                sent_today=limits.sent_today)
        ctx.part(LimitWork).count_on = limits.day


async def record_daily_outgoing(ctx: TransferContext) -> None:
    work = ctx.part(LimitWork)
    if work.count_on is not None and ctx.command.source_id is not None:
        await ctx.uow.extension(EXTENSION).add_outgoing(ctx.command.source_id, work.count_on,
                                                        ctx.command.amount)


CHECK_STEP = Step("check_amount_limits", "check", check_amount_limits)
EFFECT_STEP = Step("record_daily_outgoing", "effect", record_daily_outgoing)

# What phase 4's manifest declares. The check goes right before the ledger posts (after the
# locks and the funds check: a transfer refused for funds never counts); the effect goes last.
TRANSFER_STEPS: tuple[Change, ...] = (InsertBefore("post_ledger", CHECK_STEP), Append(EFFECT_STEP))
