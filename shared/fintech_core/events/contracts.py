"""Event contracts: explicit, versioned pydantic models. The name carries the version
(`transfer.completed.v1`); a consumer that meets a version it does not know dead-letters the
message instead of guessing, and a breaking change is a new version published alongside.

Every money event carries the journal entry it announces (entry id and signed postings), so a
read model can be rebuilt from events alone and checked against the ledger.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PostingV1(Contract):
    account_id: UUID
    bucket: Literal["POSTED", "PENDING_OUT", "PENDING_IN"]
    amount: int = Field(description="Signed minor units: credit +, debit -; never 0.")
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class EntryV1(Contract):
    entry_id: UUID
    kind: str
    postings: list[PostingV1] = Field(min_length=2)


class TransferCompletedV1(Contract):
    """Money moved: a transfer, deposit, withdrawal or reversal reached COMPLETED at creation."""
    transfer_id: UUID
    kind: Literal["TRANSFER", "DEPOSIT", "WITHDRAWAL", "REVERSAL"]
    source_account_id: UUID | None
    destination_account_id: UUID | None
    amount: int = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    reference: str | None = None
    reverses_id: UUID | None = None
    entry: EntryV1


class TransferHeldV1(Contract):
    """Funds reserved by a two-phase transfer (PENDING until posted, voided or expired).
    `destination_account_id` is None for a payout or refund hold (phase 3): the money is
    reserved toward a provider's clearing account, outside the customer accounts."""
    transfer_id: UUID
    source_account_id: UUID
    destination_account_id: UUID | None
    amount: int = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    reference: str | None = None
    entry: EntryV1


class TransferSettledV1(Contract):
    """A hold left PENDING: posted (COMPLETED), voided or expired; `entry` is what moved."""
    transfer_id: UUID
    status: Literal["COMPLETED", "VOIDED", "EXPIRED"]
    entry: EntryV1


class PaymentOutcomeV1(Contract):
    """Phase 3: a pay-in reached a final answer. SETTLED carries the DEPOSIT transfer that
    credited the account (its own transfer.completed.v1 carries the entry); FAILED moved nothing."""
    payment_id: UUID
    account_id: UUID
    provider: str
    amount: int = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    status: Literal["SETTLED", "FAILED"]
    transfer_id: UUID | None = None
    failure_code: str | None = None


class RefundOutcomeV1(Contract):
    """Phase 3: a refund of a pay-in settled (its hold posted) or failed (its hold voided)."""
    refund_id: UUID
    payment_id: UUID
    account_id: UUID
    amount: int = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    status: Literal["SETTLED", "FAILED"]
    transfer_id: UUID


class PayoutOutcomeV1(Contract):
    """Phase 3: a payout was paid (its hold posted) or failed (its hold voided)."""
    payout_id: UUID
    account_id: UUID
    provider: str
    amount: int = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    status: Literal["SETTLED", "FAILED"]
    transfer_id: UUID
    failure_code: str | None = None


class AccountFlaggedV1(Contract):
    """Phase 5: the async fraud rules saw a pattern on an account (after the fact, from the
    transfers table). `event_id` names the transfer event that revealed it: one flag per
    (event, rule), however often that event is delivered."""
    flag_id: int
    account_id: UUID
    rule: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    severity: Literal["medium", "high"]
    event_id: UUID
    transfer_id: UUID
    details: dict[str, int] = Field(description="The window's figures (counts, minor units).")


class AccountFrozenV1(Contract):
    """Phase 5: a severe flag froze the account, in the flag's own transaction. A frozen
    account neither sends nor receives until support unfreezes it."""
    account_id: UUID
    flag_id: int
    rule: str
    event_id: UUID


CONTRACTS: dict[str, type[Contract]] = {
    "transfer.completed.v1": TransferCompletedV1,
    "transfer.held.v1": TransferHeldV1,
    "transfer.posted.v1": TransferSettledV1,
    "transfer.voided.v1": TransferSettledV1,
    "transfer.expired.v1": TransferSettledV1,
    # Phase 3: what happened at the provider. They carry no journal entry (the ledger's own
    # transfer.* events of the same transaction do), so the activity read model skips them.
    "payment.settled.v1": PaymentOutcomeV1,
    "payment.failed.v1": PaymentOutcomeV1,
    "payment.refunded.v1": RefundOutcomeV1,
    "payment.refund_failed.v1": RefundOutcomeV1,
    "payout.paid.v1": PayoutOutcomeV1,
    "payout.failed.v1": PayoutOutcomeV1,
    # Phase 5: what the async fraud rules concluded; no journal entry (no money moved).
    "fraud.account-flagged.v1": AccountFlaggedV1,
    "fraud.account-frozen.v1": AccountFrozenV1,
}


class Envelope(Contract):
    """The Kafka message value. The key is `aggregate_id`; headers repeat the type and carry the
    correlation id, so routers can act without parsing the body."""
    event_id: UUID
    event_type: str
    aggregate_type: str
    aggregate_id: UUID
    occurred_at: datetime
    outbox_seq: int | None = None
    payload: dict[str, object]


class UnknownEvent(ValueError):
    """A type or version this code does not know: permanent, dead-lettered at once."""


def parse(envelope: Envelope) -> Contract:
    contract = CONTRACTS.get(envelope.event_type)
    if contract is None:
        raise UnknownEvent(f"unknown event type {envelope.event_type!r}; known: "
                           f"{sorted(CONTRACTS)}")
    return contract.model_validate(envelope.payload)
