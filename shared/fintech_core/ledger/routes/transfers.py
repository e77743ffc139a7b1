"""Phase 1 transfer routes: reversals, and the detailed read.

GET /transfers/{transfer_id} replaces phase 0's: it adds the journal entries, their postings and
the status history. A hold read after its expiry is settled first (its own short transaction),
so no reader ever sees a PENDING hold past its expiry, whenever the sweeper last ran.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from fintech_core.api.deps import ContainerDep, IdempotencyKey
from fintech_core.api.json_body import JsonBodyRoute
from fintech_core.api.schemas import problem_responses
from fintech_core.auth.deps import require
from fintech_core.auth.guard import require_any_party
from fintech_core.auth.principals import Permission as P
from fintech_core.auth.principals import Principal
from fintech_core.domain.errors import TransferNotFound
from fintech_core.ledger import reversals, service
from fintech_core.ledger.routes.details import TransferDetailOut
from fintech_core.ledger.routes.holds import ERRORS, command
from fintech_core.ledger.routes.schemas import ReversalIn
from fintech_core.ledger.views import TransferDetails
from fintech_core.service.ports import UnitOfWork
from fintech_core.service.retry import with_retries
from fintech_core.transfers.domain import TransferStatus

Reverser = Annotated[Principal, Depends(require(P.TRANSFERS_REVERSE))]
Reader = Annotated[Principal, Depends(require(P.TRANSFERS_READ_OWN))]


def router() -> APIRouter:
    r = APIRouter(tags=["transfers"], route_class=JsonBodyRoute)

    @r.post("/transfers/{transfer_id}/reversal", status_code=201,
            response_model=TransferDetailOut, responses=ERRORS,
            summary="Reverse a completed transfer with a new, linked transfer (at most once)")
    async def reverse(transfer_id: UUID, request: Request, c: ContainerDep,
                      idempotency_key: IdempotencyKey, caller: Reverser,
                      body: ReversalIn | None = None) -> JSONResponse:
        async def act(uow: UnitOfWork) -> UUID:
            reference = body.reference if body else None
            return (await reversals.reverse(uow, transfer_id, reference)).id

        return await command(request, c, caller.subject, idempotency_key, body, 201, act)

    @r.get("/transfers/{transfer_id}", response_model=TransferDetailOut,
           responses=problem_responses(404, 503),
           summary="What happened to a transfer: status, history, journal entries and postings")
    async def get_transfer(transfer_id: UUID, c: ContainerDep, caller: Reader) -> TransferDetailOut:
        async def read() -> TransferDetails | None:
            async with c.uow_factory() as uow:
                return await uow.extension("ledger_reads").details(transfer_id)  # type: ignore[no-any-return]

        async def settle() -> bool:
            async with c.uow_factory() as uow:
                expired = await service.expire(uow, transfer_id)
                await uow.commit()
                return expired

        details = await read()
        missing = TransferNotFound(f"transfer {transfer_id} does not exist")
        if details is None:
            raise missing
        await require_any_party(c.uow_factory, caller, P.TRANSFERS_READ_OWN,
                                (details.transfer.source_id, details.transfer.destination_id),
                                missing)
        pending = details.transfer.status is TransferStatus.PENDING
        if pending and details.expires_at is not None and await with_retries(settle):
            details = await read()  # settled on read: now EXPIRED, with its EXPIRE entry
        assert details is not None
        return TransferDetailOut.from_details(details)

    return r
