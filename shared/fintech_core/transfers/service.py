"""The transfer use case: run the pipeline; a business rejection becomes a FAILED transfer.

Which failures are *recorded*: a rejection that depends on the state of the world at that moment
(insufficient funds, a frozen account) is an outcome, so it is stored as a FAILED transfer and
its response is replayed for the same Idempotency-Key. A request that is wrong in itself (unknown
account, same account, wrong currency) records nothing and leaves the key unused. A `Declined`
(phase 5's fraud block) is recorded too: the decision is an outcome the client must be able to
ask about.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fintech_core.domain.errors import (
    AccountStateConflict,
    Declined,
    DomainError,
    InsufficientFunds,
)
from fintech_core.domain.ids import uuid7
from fintech_core.service.ports import UnitOfWork
from fintech_core.transfers.domain import Transfer, TransferCommand, TransferStatus
from fintech_core.transfers.pipeline import Pipeline, TransferContext
from fintech_core.transfers.steps import completed

RECORDED_REJECTIONS: tuple[type[DomainError], ...] = (InsufficientFunds, AccountStateConflict,
                                                       Declined)


@dataclass(frozen=True)
class TransferOutcome:
    transfer: Transfer
    rejection: DomainError | None = None


class TransferService:
    def __init__(self, pipeline: Pipeline, resources: Mapping[str, Any] | None = None) -> None:
        self.pipeline = pipeline
        self.resources = dict(resources or {})

    async def execute(self, uow: UnitOfWork, command: TransferCommand,
                      principal: str, parts: Iterable[object] = ()) -> TransferOutcome:
        """Run inside the caller's unit of work; the caller commits (with the idempotency
        record). `parts` seeds the context's typed parts (phase 1's hold request is one)."""
        ctx = TransferContext.seeded(uow, command, uuid7(), principal, parts, self.resources)
        try:
            await self.pipeline.run(ctx)
        except RECORDED_REJECTIONS as rejection:
            # Only checks can raise here and checks precede effects (Pipeline.validated), so the
            # transaction holds no partial movement: recording the failure is all we write.
            failed = completed(ctx, TransferStatus.FAILED, failure_code=rejection.code)
            await uow.transfers.add(failed)
            ctx.transfer = failed
            await self.pipeline.record_refusal(ctx)
            return TransferOutcome(failed, rejection)
        assert ctx.transfer is not None, "the pipeline must record the transfer"
        return TransferOutcome(ctx.transfer)
