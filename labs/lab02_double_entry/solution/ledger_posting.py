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
    # --- solution begin
    # hint: Validate first: amount must be an int (not a bool, not a float) and > 0, and the
    # hint: accounts must differ. Then, in ONE transaction: lock both account rows with
    # hint: SELECT ... FOR UPDATE in a fixed order (ORDER BY id, so opposite transfers cannot
    # hint: deadlock), check they exist and use `currency`, check the overdraft rule with
    # hint: balance(), insert the transaction row, then the two postings (-amount, +amount).
    if type(amount) is not int or amount <= 0:
        raise InvalidTransfer(f"amount must be a positive integer of minor units, got {amount!r}")
    if source == destination:
        raise InvalidTransfer("source and destination must be different accounts")
    with conn.transaction():
        # The row locks serialise every transfer touching these accounts, so the balance read
        # below cannot be invalidated by a concurrent transfer before we commit.
        rows = conn.execute("SELECT id, currency, allow_overdraft FROM lab2_accounts"
                            " WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
                            ([source, destination],)).fetchall()
        accounts = {row[0]: row for row in rows}
        for account_id in (source, destination):
            if account_id not in accounts:
                raise InvalidTransfer(f"account {account_id!r} does not exist")
            if accounts[account_id][1] != currency:
                raise InvalidTransfer(f"account {account_id!r} is not in {currency}")
        if not accounts[source][2] and balance(conn, source) < amount:
            raise InsufficientFunds(f"{source!r} holds less than {amount}")
        row = conn.execute("INSERT INTO lab2_transactions DEFAULT VALUES RETURNING id").fetchone()
        assert row is not None
        transaction_id = int(row[0])
        for account_id, signed in ((source, -amount), (destination, amount)):
            conn.execute("INSERT INTO lab2_postings (transaction_id, account_id, amount)"
                         " VALUES (%s, %s, %s)", (transaction_id, account_id, signed))
    return transaction_id
    # --- solution end
