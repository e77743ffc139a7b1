# GENERATED from the lab's solution/ by `./fcl lab generate`: do not edit in the repository.
# Start lab 2 as its README says (that copies this file to your workspace) and edit your copy.
"""Lab 2: post a transfer as balanced double-entry postings, with the overdraft rule.

There is no balance column to update. A transfer is one transaction row and two postings, one
negative on the source and one positive on the destination, so every transaction sums to zero
and so does the whole ledger. A balance is the sum of an account's postings (`balance`, given).
Your part is `post_transfer`: validate, lock, check the overdraft rule, write, all at once.
"""

from __future__ import annotations

import psycopg


class LedgerError(Exception):
    """Base class: a refused transfer writes nothing."""


class InvalidTransfer(LedgerError):
    """Bad amount, same account twice, unknown account, or a currency that does not match."""


class InsufficientFunds(LedgerError):
    """The source would go below zero and is not allowed to."""


def balance(conn: psycopg.Connection, account_id: str) -> int:
    """GIVEN: an account's balance is the sum of its postings (0 when it has none)."""
    row = conn.execute("SELECT COALESCE(sum(amount), 0) FROM lab2_postings WHERE account_id = %s",
                       (account_id,)).fetchone()
    assert row is not None
    return int(row[0])


def post_transfer(conn: psycopg.Connection, source: str, destination: str, amount: int,
                  currency: str) -> int:
    """Move `amount` minor units from `source` to `destination`; return the transaction id.

    `conn` is in autocommit mode: a statement outside `with conn.transaction():` commits on its
    own. Raises InvalidTransfer or InsufficientFunds, and then nothing is written.
    """
    # TODO (lab 2): write this part.
    # hint: Validate first: amount must be an int (not a bool, not a float) and > 0, and the
    # hint: accounts must differ. Then, in ONE transaction: lock both account rows with
    # hint: SELECT ... FOR UPDATE in a fixed order (ORDER BY id, so opposite transfers cannot
    # hint: deadlock), check they exist and use `currency`, check the overdraft rule with
    # hint: balance(), insert the transaction row, then the two postings (-amount, +amount).
    raise NotImplementedError("lab 2: this part is yours to write (see the hint above)")
