"""GET /transfers/{transfer_id} at phase 5: phase 1's detailed read plus the transfer's `risk`.

Who sees what: callers holding fraud:read (support, auditor, admin) get the decision: rule set,
verdict, score, fallback, the rules that fired with their reason codes, the shadow decision and
the review. Everyone else gets `"risk": null`, never the rule: a customer (maybe the fraudster)
must not learn which pattern to avoid. Who may read the transfer at all is unchanged (the
ownership check of phase 1's route: a stranger's transfer answers 404 exactly as a missing one).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import Field

from fintech_core.api.deps import ContainerDep
from fintech_core.api.json_body import JsonBodyRoute
from fintech_core.api.schemas import problem_responses
from fintech_core.auth.deps import require
from fintech_core.auth.guard import require_any_party
from fintech_core.auth.principals import Permission as P
from fintech_core.auth.principals import Principal
from fintech_core.domain.errors import TransferNotFound
from fintech_core.fraud import views
from fintech_core.fraud.steps import EXTENSION
from fintech_core.ledger import service
from fintech_core.ledger.routes.details import TransferDetailOut
from fintech_core.ledger.views import TransferDetails
from fintech_core.service.retry import with_retries
from fintech_core.transfers.domain import TransferStatus

Reader = Annotated[Principal, Depends(require(P.TRANSFERS_READ_OWN))]
ROUTE = "GET /transfers/{transfer_id}"


class TransferRiskOut(TransferDetailOut):
    risk: views.RiskOut | None = Field(description="The fraud decision, for callers holding "
                                       "fraud:read; null for everyone else or when none was made.")


def router() -> APIRouter:
    r = APIRouter(tags=["transfers"], route_class=JsonBodyRoute)

    @r.get("/transfers/{transfer_id}", response_model=TransferRiskOut,
           responses=problem_responses(404, 503),
           summary="What happened to a transfer: status, history, entries and (fraud:read) risk")
    async def get_transfer(transfer_id: UUID, c: ContainerDep, caller: Reader) -> TransferRiskOut:
        async def read() -> tuple[TransferDetails | None, views.RiskOut | None]:
            async with c.uow_factory() as uow:
                details = await uow.extension("ledger_reads").details(transfer_id)
                if details is None or not caller.may(P.FRAUD_READ):
                    return details, None
                return details, await views.risk(uow.extension(EXTENSION).conn, transfer_id)

        async def settle() -> bool:
            async with c.uow_factory() as uow:
                expired = await service.expire(uow, transfer_id)
                await uow.commit()
                return expired

        details, risk = await read()
        missing = TransferNotFound(f"transfer {transfer_id} does not exist")
        if details is None:
            raise missing
        await require_any_party(c.uow_factory, caller, P.TRANSFERS_READ_OWN,
                                (details.transfer.source_id, details.transfer.destination_id),
                                missing)
        # Settled on read; read again once it is due, whoever settled it: the sweeper may have
        # expired it while we waited for its locks (settle then answers False, and the first
        # read is stale).
        due = details.expires_at if details.transfer.status is TransferStatus.PENDING else None
        if due is not None and (await with_retries(settle) or due <= datetime.now(UTC)):
            details, risk = await read()
        assert details is not None
        base = TransferDetailOut.from_details(details).model_dump()
        return TransferRiskOut(**base, risk=risk)

    return r
