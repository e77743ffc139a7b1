"""Phase 1's detailed read models: a transfer with its journal entries, postings and history,
and the verify report."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from fintech_core.api.schemas import TransferOut
from fintech_core.ledger.views import TransferDetails, VerifyReport


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
