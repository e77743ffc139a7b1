"""Creating pay-ins, payouts and refunds: each in the request's transaction, with its
Idempotency-Key record (idempotency/http.py). The provider is called after COMMIT (drive.py):
the row, and the key we will send, exist before anything can happen at the provider, so a
crash at any later point leaves something the worker can resume, never an orphan charge.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fintech_core.domain.errors import AccountNotFound, CurrencyMismatch
from fintech_core.domain.ids import uuid7
from fintech_core.domain.money import Money
from fintech_core.payments import money
from fintech_core.payments.domain import State, provider_key
from fintech_core.payments.effects import repo
from fintech_core.payments.errors import (
    PaymentNotFound,
    PaymentNotRefundable,
    RefundExceedsPayment,
)
from fintech_core.service.ports import UnitOfWork

Row = dict[str, Any]


async def _require_account(uow: UnitOfWork, account_id: UUID, currency: str) -> None:
    account = await uow.accounts.get(account_id)
    if account is None:
        raise AccountNotFound(f"account {account_id} does not exist", account_id=str(account_id))
    if account.currency != currency:
        raise CurrencyMismatch(f"account {account_id} holds {account.currency}, not {currency}",
                               account_id=str(account_id))


async def create_payment(uow: UnitOfWork, account_id: UUID, provider: str, amount: int,
                         currency: str, instrument: str, lease_seconds: float) -> Row:
    await _require_account(uow, account_id, currency)
    payment_id = uuid7()
    # Leased to this request: the worker leaves it alone until the lease ends, then resumes it
    # (the request died before recording the provider's answer).
    await repo(uow).insert("payment", {
        "id": payment_id, "account_id": account_id, "provider": provider, "amount": amount,
        "currency": currency, "instrument": instrument, "provider_key": provider_key(
            "payment", payment_id)})
    await repo(uow).lease("payment", payment_id, lease_seconds)
    return await repo(uow).get("payment", payment_id)  # type: ignore[no-any-return]


async def create_payout(uow: UnitOfWork, account_id: UUID, provider: str, amount: int,
                        currency: str, destination: str, lease_seconds: float) -> Row:
    """Saga step 1, HOLD_PLACED: the funds are reserved in the transaction that creates the
    payout, so there is never a payout without its hold, nor a hold without its payout."""
    payout_id = uuid7()
    hold_id = await money.place_hold(uow, provider, account_id, Money(amount, currency),
                                     f"payout {payout_id}")
    await repo(uow).insert("payout", {
        "id": payout_id, "account_id": account_id, "provider": provider, "amount": amount,
        "currency": currency, "destination": destination, "hold_id": hold_id,
        "provider_key": provider_key("payout", payout_id)})
    await repo(uow).step(payout_id, "HOLD_PLACED", f'{{"hold_id": "{hold_id}"}}')
    await repo(uow).lease("payout", payout_id, lease_seconds)
    return await repo(uow).get("payout", payout_id)  # type: ignore[no-any-return]


async def create_refund(uow: UnitOfWork, payment_id: UUID, amount: int | None,
                        lease_seconds: float) -> Row:
    """A refund reserves the customer's funds first (they may have been spent since the
    top-up: then it is refused with insufficient-funds and nothing changes)."""
    paid = await repo(uow).get("payment", payment_id, lock=True)
    if paid is None:
        raise PaymentNotFound(f"payment {payment_id} does not exist", payment_id=str(payment_id))
    if paid["state"] not in (State.SETTLED, State.PARTIALLY_REFUNDED):
        raise PaymentNotRefundable(
            f"payment {payment_id} is {paid['state']}; only a SETTLED payment can be refunded",
            payment_id=str(payment_id), payment_state=paid["state"])
    # Under the payment's row lock: concurrent refunds of one payment count each other.
    committed = sum(r["amount"] for r in await repo(uow).refunds_of(payment_id)
                    if r["state"] != State.FAILED)
    left = paid["amount"] - committed
    amount = left if amount is None else amount
    if amount <= 0 or amount > left:
        raise RefundExceedsPayment(
            f"{amount} exceeds the {left} left to refund of payment {payment_id}",
            payment_id=str(payment_id), refundable=left)
    refund_id = uuid7()
    hold_id = await money.place_hold(uow, paid["provider"], paid["account_id"],
                                     Money(amount, paid["currency"]), f"refund {refund_id}")
    await repo(uow).insert("refund", {
        "id": refund_id, "payment_id": payment_id, "account_id": paid["account_id"],
        "provider": paid["provider"], "amount": amount, "currency": paid["currency"],
        "hold_id": hold_id, "provider_key": provider_key("refund", refund_id)})
    await repo(uow).lease("refund", refund_id, lease_seconds)
    return await repo(uow).get("refund", refund_id)  # type: ignore[no-any-return]
