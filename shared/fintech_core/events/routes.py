"""Phase 2's read-model routes: an account's activity and a transfer's story, both built from
events by the consumers (eventually consistent: they lag the ledger by the relay and consumer
delay, and are empty while the workers are stopped).

Activity is newest first, like the ledger statement (GET /accounts/{id}/entries): a reader opens
on what just happened. Keyset paging on (recorded_at, entry_id, bucket) means a page never
repeats a line, and no line that existed when the first page was read is skipped; lines
projected later appear on a fresh first page.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from fintech_core.api.deps import ContainerDep
from fintech_core.api.schemas import problem_responses
from fintech_core.auth.deps import require
from fintech_core.auth.guard import require_account, require_any_party
from fintech_core.auth.principals import Permission as P
from fintech_core.auth.principals import Principal
from fintech_core.domain.errors import AccountNotFound, TransferNotFound
from fintech_core.events import cursor
from fintech_core.events.read_models import ActivityLine, AuditEvent
from fintech_core.events.reads import ActivityPosition

LAG = ("Built by the event consumers: it lags the ledger by the relay and consumer delay, so a "
       "change made a moment ago may not be here yet.")


class ActivityPage(BaseModel):
    account_id: UUID
    items: list[ActivityLine] = Field(description="Newest first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page; "
                                    "null on the last page.")


class TransferStory(BaseModel):
    transfer_id: UUID
    events: list[AuditEvent] = Field(description="In commit order; empty for a transfer that "
                                     "announced nothing (a FAILED one) or is not consumed yet.")


AccountReader = Annotated[Principal, Depends(require(P.ACCOUNTS_READ_OWN))]
TransferReader = Annotated[Principal, Depends(require(P.TRANSFERS_READ_OWN))]


def router() -> APIRouter:
    r = APIRouter(tags=["read models"])

    @r.get("/accounts/{account_id}/activity", response_model=ActivityPage,
           responses=problem_responses(404, 422, 503),
           summary="An account's activity from events, newest first, cursor-paginated",
           description=LAG)
    async def activity(account_id: UUID, c: ContainerDep, caller: AccountReader,
                       limit: Annotated[int, Query(ge=1, le=200)] = 50,
                       after: Annotated[str | None, Query(
                           alias="cursor", pattern=cursor.CURSOR_PATTERN,
                           description="next_cursor of the previous page")] = None,
                       ) -> ActivityPage:
        before = cursor.decode(after) if after else None
        await require_account(c.uow_factory, caller, P.ACCOUNTS_READ_OWN, account_id)
        async with c.uow_factory() as uow:
            if await uow.accounts.get(account_id) is None:
                raise AccountNotFound(f"account {account_id} does not exist",
                                      account_id=str(account_id))
            lines = await uow.extension("event_reads").activity(account_id, before, limit + 1)
        page, more = lines[:limit], len(lines) > limit
        return ActivityPage(account_id=account_id, items=page,
                            next_cursor=cursor.encode(ActivityPosition.of(page[-1]))
                            if more else None)

    @r.get("/transfers/{transfer_id}/story", response_model=TransferStory,
           responses=problem_responses(404, 422, 503),
           summary="A transfer's events from the audit trail, in order",
           description=LAG)
    async def story(transfer_id: UUID, c: ContainerDep, caller: TransferReader) -> TransferStory:
        missing = TransferNotFound(f"transfer {transfer_id} does not exist",
                                   transfer_id=str(transfer_id))
        async with c.uow_factory() as uow:
            transfer = await uow.transfers.get(transfer_id)
        if transfer is None:
            raise missing
        await require_any_party(c.uow_factory, caller, P.TRANSFERS_READ_OWN,
                                (transfer.source_id, transfer.destination_id), missing)
        async with c.uow_factory() as uow:
            events = await uow.extension("event_reads").story(transfer_id)
        return TransferStory(transfer_id=transfer_id, events=events)

    return r
