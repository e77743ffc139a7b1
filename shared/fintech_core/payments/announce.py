"""payment.* and payout.* events, written to the phase-2 outbox in the transaction of the state
change they announce (when the composition has an outbox). Keyed by the customer's account, like
the ledger's transfer.* events, so one account's story stays in order on one partition."""

from __future__ import annotations

from typing import Any

from fintech_core.events.contracts import PaymentOutcomeV1, PayoutOutcomeV1, RefundOutcomeV1
from fintech_core.events.emit import ACCOUNT, NewEvent
from fintech_core.service.ports import UnitOfWork

Row = dict[str, Any]


async def _add(uow: UnitOfWork, outbox: bool, event: NewEvent) -> None:
    if outbox:
        await uow.extension("outbox").add(event)


async def payment(uow: UnitOfWork, outbox: bool, row: Row) -> None:
    settled = row["state"] == "SETTLED"
    payload = PaymentOutcomeV1(
        payment_id=row["id"], account_id=row["account_id"], provider=row["provider"],
        amount=row["amount"], currency=row["currency"], status=row["state"],
        transfer_id=row.get("ledger_transfer_id"), failure_code=row.get("failure_code"))
    await _add(uow, outbox, NewEvent("payment.settled.v1" if settled else "payment.failed.v1",
                                     ACCOUNT, row["account_id"], payload, str(row["id"])))


async def refund(uow: UnitOfWork, outbox: bool, row: Row) -> None:
    settled = row["state"] == "SETTLED"
    payload = RefundOutcomeV1(
        refund_id=row["id"], payment_id=row["payment_id"], account_id=row["account_id"],
        amount=row["amount"], currency=row["currency"], status=row["state"],
        transfer_id=row["hold_id"])
    await _add(uow, outbox, NewEvent(
        "payment.refunded.v1" if settled else "payment.refund_failed.v1", ACCOUNT,
        row["account_id"], payload, str(row["payment_id"])))


async def payout(uow: UnitOfWork, outbox: bool, row: Row) -> None:
    settled = row["state"] == "SETTLED"
    payload = PayoutOutcomeV1(
        payout_id=row["id"], account_id=row["account_id"], provider=row["provider"],
        amount=row["amount"], currency=row["currency"], status=row["state"],
        transfer_id=row["hold_id"], failure_code=row.get("failure_code"))
    await _add(uow, outbox, NewEvent("payout.paid.v1" if settled else "payout.failed.v1",
                                     ACCOUNT, row["account_id"], payload, str(row["id"])))
