"""Phase 1's request and response bodies (the ledger's part of the OpenAPI contract).

Amounts stay integer minor units, as in phase 0. Balances follow the usual ledger vocabulary:
posted (settled), pending (posted + incoming - reserved: once every open hold posts) and
available (posted - reserved: what may be spent, before any credit limit).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field, StrictInt

from fintech_core.api.schemas import (
    MAX_MINOR_UNITS,
    AccountIn,
    Amount,
    MinorUnits,
    Reference,
    Strict,
    TransferIn,
)
from fintech_core.ledger.views import BalanceView, StatementLine

MAX_HOLD_SECONDS = 30 * 24 * 3600


class LedgerAccountIn(AccountIn):
    credit_limit: MinorUnits = Field(
        default=0, ge=0, le=MAX_MINOR_UNITS,
        description="How far below zero the available balance may go (minor units). 0: never.")


class HoldIn(TransferIn):
    timeout_seconds: StrictInt | None = Field(
        default=None, ge=1, le=MAX_HOLD_SECONDS,
        description="Release the hold automatically after this many seconds; null: never.")


class PostIn(Strict):
    amount: Amount | None = Field(default=None, description="Post this much (<= held); "
                                  "null posts the whole hold. The rest returns to the payer.")


class ReversalIn(Strict):
    reference: Reference | None = None


class BalanceOut(BaseModel):
    account_id: UUID
    currency: str
    as_of: datetime | None = Field(description="null: now")
    posted: int
    pending: int
    available: int
    reserved: int = Field(description="Held by open holds this account pays.")
    incoming: int = Field(description="On its way from open holds paid to this account.")
    credit_limit: int | None

    @classmethod
    def of(cls, b: BalanceView) -> BalanceOut:
        return cls(account_id=b.account_id, currency=b.currency, as_of=b.as_of, posted=b.posted,
                   pending=b.pending, available=b.available, reserved=b.pending_out,
                   incoming=b.pending_in, credit_limit=b.credit_limit)


class StatementLineOut(BaseModel):
    seq: int
    journal_id: UUID
    transfer_id: UUID
    kind: str
    direction: str = Field(examples=["CREDIT"])
    amount: int
    balance_after: int = Field(description="The posted balance right after this line.")
    created_at: datetime
    reference: str | None


class StatementPage(BaseModel):
    items: list[StatementLineOut]
    next_cursor: str | None

    @classmethod
    def of(cls, lines: list[StatementLine], cursor: str | None) -> StatementPage:
        return cls(items=[StatementLineOut(**vars(line)) for line in lines], next_cursor=cursor)
