"""Phase 1's request and response bodies (the ledger's part of the OpenAPI contract).

Amounts stay integer minor units, as in phase 0. Balances follow the usual ledger vocabulary:
posted (settled), pending (posted + incoming - reserved: once every open hold posts) and
available (posted - reserved: what may be spent, before any credit limit).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field, StrictInt

from fintech_core.api.schemas import (
    MAX_MINOR_UNITS,
    AccountIn,
    Amount,
    Reference,
    Strict,
    TransferIn,
    TransferOut,
)
from fintech_core.ledger.views import BalanceView, StatementLine, TransferDetails, VerifyReport

MAX_HOLD_SECONDS = 30 * 24 * 3600


class LedgerAccountIn(AccountIn):
    credit_limit: StrictInt = Field(
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


class PostingOut(BaseModel):
    account_id: UUID
    account_name: str | None = Field(description="Set for system accounts.")
    bucket: str = Field(examples=["POSTED"])
    direction: str
    amount: int
    currency: str
    balance_after: int


class JournalEntryOut(BaseModel):
    id: UUID
    kind: str
    created_at: datetime
    effective_at: datetime
    postings: list[PostingOut]


class StatusChangeOut(BaseModel):
    from_status: str | None
    to_status: str
    at: datetime


class TransferDetailOut(TransferOut):
    two_phase: bool
    expires_at: datetime | None
    posted_amount: int | None = Field(description="What moved; less than amount after a "
                                      "partial post, null while nothing has.")
    reverses_id: UUID | None
    reversed_by: UUID | None
    entries: list[JournalEntryOut]
    history: list[StatusChangeOut]

    @classmethod
    def from_details(cls, d: TransferDetails) -> TransferDetailOut:
        base = TransferOut.of(d.transfer).model_dump()
        return cls(**base, two_phase=d.two_phase, expires_at=d.expires_at,
                   posted_amount=d.posted_amount, reverses_id=d.reverses_id,
                   reversed_by=d.reversed_by,
                   entries=[JournalEntryOut(**{**vars(e),
                                                "postings": [vars(p) for p in e.postings]})
                            for e in d.entries],
                   history=[StatusChangeOut(**vars(h)) for h in d.history])


class VerifyOut(BaseModel):
    ok: bool
    drift: int = Field(description="Findings of any kind; 0 means the ledger explains itself.")
    accounts: int
    journal_entries: int
    postings: int
    findings: dict[str, Any]
    totals: list[dict[str, Any]]

    @classmethod
    def of(cls, r: VerifyReport) -> VerifyOut:
        findings = {k: v for k, v in vars(r).items()
                    if k not in ("accounts", "journal_entries", "postings", "totals")}
        return cls(ok=r.drift == 0, drift=r.drift, accounts=r.accounts,
                   journal_entries=r.journal_entries, postings=r.postings, findings=findings,
                   totals=[{**vars(t), "balanced": t.balanced} for t in r.totals])
