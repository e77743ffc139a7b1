"""Phase 2's transfer-pipeline step: announce the transfer, in the transfer's transaction.

    phase 2: ..., post_ledger, record_ledger_transfer, write_outbox

An effect, last: it only runs once every check passed and the movement is written, and it
commits or rolls back with them. A FAILED transfer (refused by a check) moved no money and
announces nothing.
"""

from __future__ import annotations

from fintech_core.events.emit import recorded
from fintech_core.ledger.steps import LedgerWork
from fintech_core.transfers.pipeline import Append, Step, TransferContext


async def write_outbox(ctx: TransferContext) -> None:
    entry = ctx.part(LedgerWork).entry
    assert ctx.transfer is not None and entry is not None, "runs after the ledger steps"
    await ctx.uow.extension("outbox").add(recorded(ctx.transfer, entry))


EVENT_STEPS = (Append(Step("write_outbox", "effect", write_outbox)),)
