"""Plan, then apply: how every ledger write is checked before anything is written.

`plan` locks the ledger accounts an entry touches (ascending id order), finds the overdue holds
those accounts pay, and simulates [expiries..., entry] against the locked snapshots; it raises on
a policy breach and writes nothing, so it can run as a pipeline *check*. `apply` appends the
planned entries. Releasing overdue holds here ("release on touch") is why correctness never
depends on the sweeper: a hold past its expiry never blocks funds, whenever the sweeper runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from fintech_core.ledger import entries
from fintech_core.ledger.model import EntryKind, JournalEntry, LedgerAccount
from fintech_core.ledger.policy import simulate
from fintech_core.ledger.ports import LedgerRepository
from fintech_core.transfers.domain import TransferStatus


@dataclass(frozen=True)
class Plan:
    entries: tuple[JournalEntry, ...]  # overdue-hold expiries first, then the entry itself
    expired: tuple[UUID, ...]  # the holds those expiries release, to mark EXPIRED
    after: dict[UUID, LedgerAccount]  # the simulated balances once applied


def lock_sets(entry: JournalEntry) -> tuple[list[UUID], list[UUID]]:
    """The ledger accounts to lock for `entry`, and those among them that pay (whose overdue
    holds are released first)."""
    ids = sorted({p.account_id for p in entry.postings})
    paying = sorted({p.account_id for p in entry.postings if p.available_effect() < 0})
    return ids, paying


async def plan(ledger: LedgerRepository, entry: JournalEntry,
               locked: dict[UUID, LedgerAccount] | None = None) -> Plan:
    """`locked`: the rows `lock(*lock_sets(entry))` returned, when the caller took the locks
    already in this transaction (the transfer pipeline does, with the accounts rows)."""
    ids, paying = lock_sets(entry)
    if locked is None:
        locked = await ledger.lock(ids, paying)
    missing = set(ids) - locked.keys()
    if missing:  # customer rows exist by a deferred constraint, system rows are made at opening
        raise LookupError(f"ledger accounts {sorted(map(str, missing))} do not exist")
    overdue = []
    if any(locked[a].pending_out > 0 for a in paying):
        # Only holds whose both sides we hold locks on; one that turned overdue a moment after
        # the lock statement is left for the sweeper (it is not counted as released either).
        overdue = [h for h in await ledger.overdue_holds(paying)
                   if h.source_id in locked and h.destination_id in locked]
    expiries = tuple(entries.release(h, EntryKind.EXPIRE, h.expires_at) for h in overdue)
    after = simulate(locked, [*expiries, entry])
    return Plan((*expiries, entry), tuple(h.transfer_id for h in overdue), after)


async def apply(ledger: LedgerRepository, planned: Plan) -> None:
    for entry in planned.entries:
        await ledger.append(entry)
    for transfer_id in planned.expired:
        await ledger.set_status(transfer_id, TransferStatus.EXPIRED)
