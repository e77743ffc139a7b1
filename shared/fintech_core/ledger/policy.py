"""The overdraft policy, checked by simulating entries on locked account snapshots.

Checking by simulation (apply the postings, then test each account) is how TigerBeetle validates a
batch: one rule covers transfers, deposits, holds, posts and reversals alike. The database's
CHECK (posted - pending_out >= -credit_limit) enforces the same rule again at write time, as the
last line of defence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from uuid import UUID

from fintech_core.domain.errors import CurrencyMismatch, InsufficientFunds
from fintech_core.ledger.errors import LedgerLimitExceeded
from fintech_core.ledger.model import JournalEntry, LedgerAccount

BIGINT = 2**63 - 1  # PostgreSQL bigint: balances outside it would fail as an overflow, not a 4xx


def simulate(accounts: Mapping[UUID, LedgerAccount],
             entries: Sequence[JournalEntry]) -> dict[UUID, LedgerAccount]:
    """The accounts after `entries`; raises if any lowered account breaks its policy. Every
    account an entry touches must be in `accounts` (locked by the caller): a KeyError here is a
    locking bug, never a business outcome."""
    after = dict(accounts)
    base: dict[UUID, LedgerAccount] = {}  # each lowered account just before its first debit
    for entry in entries:
        for posting in entry.in_apply_order():
            account = after[posting.account_id]
            if account.currency != posting.amount.currency:
                raise CurrencyMismatch(f"account {account.id} holds {account.currency}",
                                       account_id=str(account.id))
            if posting.available_effect() < 0:
                base.setdefault(account.id, account)
            after[account.id] = account.applied(posting)
    for account_id in sorted(base):
        check(base[account_id], after[account_id])
    for account in after.values():
        if any(abs(v) > BIGINT for v in (account.posted, account.pending_out, account.pending_in,
                                          account.available, account.pending)):
            raise LedgerLimitExceeded(f"account {account.id} would exceed the ledger's range",
                                      account_id=str(account.id))
    return after


def check(before: LedgerAccount, after: LedgerAccount) -> None:
    if after.credit_limit is None or after.available >= -after.credit_limit:
        return
    needed = before.available - after.available
    raise InsufficientFunds(
        f"account {before.id} has {before.available} available (credit limit "
        f"{before.credit_limit}); this needs {needed}",
        account_id=str(before.id), available=before.available,
        credit_limit=before.credit_limit, amount=needed)
