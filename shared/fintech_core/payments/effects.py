"""Applying a provider fact to our resources: the one effect behind the synchronous answer, the
webhook, the status poll and the reconciliation repair, inside the caller's transaction.

Each returns True when it changed something. Safe to run any number of times, in any order:
the resource row is locked, the state machine only moves forward (a repeated or older fact is a
no-op), and money moves only on the transition into SETTLED/FAILED, which happens once.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fintech_core.domain.money import Money
from fintech_core.payments import announce, money
from fintech_core.payments.domain import ProviderStatus, State, can_move, target_of
from fintech_core.payments.ports import ProviderObject
from fintech_core.service.ports import UnitOfWork

Row = dict[str, Any]


def repo(uow: UnitOfWork) -> Any:
    return uow.extension("payments")


async def payment(uow: UnitOfWork, outbox: bool, payment_id: UUID, obj: ProviderObject,
                  cause: str, verified: bool) -> bool:
    row = await repo(uow).get("payment", payment_id, lock=True)
    if row is None:
        return False
    current, target = State(row["state"]), target_of(obj.status, verified=verified)
    if not can_move(current, target):
        return False  # repeated, or older than what we know (out of order): never backwards
    fields: Row = {"state": target.value, "cause": cause, "provider_ref": obj.ref,
                   "lease_until": None, "next_check_at": None}
    if target is State.SETTLED:
        # The row's amount, not the event's: a provider that reports another amount is an
        # amount mismatch for reconciliation to list, never a silent change of what we credit.
        fields["ledger_transfer_id"] = await money.credit_payin(
            uow, row["provider"], row["account_id"], Money(row["amount"], row["currency"]),
            f"payment {payment_id}")
    elif target is State.FAILED:
        fields["failure_code"] = obj.failure_code or "provider-failed"
    await repo(uow).update("payment", payment_id, fields)
    if target in (State.SETTLED, State.FAILED):
        await announce.payment(uow, outbox, {**row, **fields})
    return True


async def payout(uow: UnitOfWork, outbox: bool, payout_id: UUID, obj: ProviderObject,
                 cause: str) -> bool:
    """A payout's provider fact. Final facts end the saga: paid posts the hold, failed voids
    it (the compensation), in the same transaction as the state."""
    row = await repo(uow).get("payout", payout_id, lock=True)
    if row is None:
        return False
    current = State(row["state"])
    target = {ProviderStatus.SUCCEEDED: State.SETTLED, ProviderStatus.FAILED: State.FAILED,
              ProviderStatus.PROCESSING: State.AUTHORIZED}[obj.status]
    if not can_move(current, target):
        return False
    fields: Row = {"state": target.value, "cause": cause, "provider_ref": obj.ref,
                   "lease_until": None}
    if target is State.AUTHORIZED:
        fields["step"] = "PROVIDER_ANSWERED"
    else:
        posted = target is State.SETTLED
        await money.settle_hold(uow, row["provider"], row["hold_id"], post=posted)
        fields["step"] = "HOLD_POSTED" if posted else "HOLD_VOIDED"
        fields["next_check_at"] = None
        if not posted:
            fields["failure_code"] = obj.failure_code or "provider-failed"
        await repo(uow).step(payout_id, fields["step"])
    await repo(uow).update("payout", payout_id, fields)
    if target is not State.AUTHORIZED:
        await announce.payout(uow, outbox, {**row, **fields})
    return True


async def refund(uow: UnitOfWork, outbox: bool, refund_id: UUID, obj: ProviderObject,
                 cause: str) -> bool:
    row = await repo(uow).get("refund", refund_id, lock=True)
    if row is None or obj.status is ProviderStatus.PROCESSING:
        return False
    current = State(row["state"])
    target = State.SETTLED if obj.status is ProviderStatus.SUCCEEDED else State.FAILED
    if not can_move(current, target):
        return False
    posted = target is State.SETTLED
    # The payment row before the ledger rows: the order refund creation takes them in.
    paid = await repo(uow).get("payment", row["payment_id"], lock=True)
    await money.settle_hold(uow, row["provider"], row["hold_id"], post=posted)
    fields: Row = {"state": target.value, "cause": cause, "provider_ref": obj.ref,
                   "lease_until": None, "next_check_at": None}
    if not posted:
        fields["failure_code"] = obj.failure_code or "provider-failed"
    await repo(uow).update("refund", refund_id, fields)
    if posted:
        await _mark_refunded(uow, paid, row["amount"], cause)
    await announce.refund(uow, outbox, {**row, **fields})
    return True


async def _mark_refunded(uow: UnitOfWork, p: Row | None, amount: int, cause: str) -> None:
    assert p is not None, "a refund always belongs to a payment"
    refunded = p["refunded"] + amount
    state = State.REFUNDED if refunded == p["amount"] else State.PARTIALLY_REFUNDED
    fields: Row = {"refunded": refunded, "cause": cause}
    if state.value != p["state"]:
        fields["state"] = state.value
    await repo(uow).update("payment", p["id"], fields)


async def any_object(uow: UnitOfWork, outbox: bool, obj: ProviderObject,
                     cause: str) -> str | None:
    """Route a verified fact to the resource its reference names. None: nothing of ours."""
    kind = {"charge": "payment", "payout": "payout", "refund": "refund"}[obj.kind]
    row = await repo(uow).by_reference(kind, obj.reference) if obj.reference else None
    if row is None:
        return None
    if kind == "payment":
        return "applied" if await payment(uow, outbox, row["id"], obj, cause, True) else "no-change"
    if kind == "payout":
        return "applied" if await payout(uow, outbox, row["id"], obj, cause) else "no-change"
    return "applied" if await refund(uow, outbox, row["id"], obj, cause) else "no-change"
