# GENERATED from the lab's solution/ by `./fcl lab generate`: do not edit in the repository.
# Start lab 5 as its README says (that copies this file to your workspace) and edit your copy.
"""Lab 5: keep an account's daily outgoing limit when transfers run at the same time.

Each account may send at most `daily_limit` minor units per UTC day. Every transfer runs in one
PostgreSQL transaction (`transfer`, given): first your `record_outgoing` counts the amount
against the day's total, then `post_transfer` (given) moves the money, then COMMIT. A refusal
or any failure before COMMIT rolls the whole transaction back, your counting included.

The difficulty is the other transfers. A payroll run, a retry storm or an attacker with a
stolen token sends many transfers from one account at once, each on its own connection; the
check "what was sent today, plus this amount, fits the limit" is only true if no other transfer
from that account can count in between.
"""

from __future__ import annotations

from datetime import date

import psycopg

ACCEPTED, REFUSED = "accepted", "refused"


class DailyLimitExceeded(Exception):
    """This transfer would take the account's outgoing total for the day past its limit."""

    def __init__(self, account_id: str, day: date, sent: int, amount: int, limit: int) -> None:
        super().__init__(f"account {account_id} sent {sent} on {day}; {amount} more would pass "
                         f"its daily limit of {limit}")
        self.sent, self.amount, self.limit = sent, amount, limit


def post_transfer(conn: psycopg.Connection, transfer_id: str, account_id: str, amount: int,
                  day: date) -> None:
    """GIVEN: move the money (here, one row in lab5_transfers). Runs inside the transfer's
    transaction, after your check; the tests make it crash sometimes, as real code does."""
    conn.execute("INSERT INTO lab5_transfers (transfer_id, account_id, amount, day)"
                 " VALUES (%s, %s, %s, %s)", (transfer_id, account_id, amount, day))


def transfer(conn: psycopg.Connection, transfer_id: str, account_id: str, amount: int,
             day: date) -> str:
    """GIVEN: one transfer, one transaction: count it against the limit, then move the money.
    Answers ACCEPTED or REFUSED; any other exception means nothing happened (a 500, retried)."""
    try:
        with conn.transaction():
            record_outgoing(conn, account_id, amount, day)
            post_transfer(conn, transfer_id, account_id, amount, day)
    except DailyLimitExceeded:
        return REFUSED
    return ACCEPTED


def record_outgoing(conn: psycopg.Connection, account_id: str, amount: int, day: date) -> int:
    """Count `amount` (minor units, > 0) as sent by `account_id` on `day` and return the day's
    new total, or raise DailyLimitExceeded if the total would pass the account's daily_limit.

    `conn` is inside the caller's open transaction: write nothing anywhere else, commit nothing.
    What must hold, however many transfers from one account run at once: the day's recorded total
    never passes the limit, and a transfer that rolls back leaves the total as it was.
    """
    # TODO (lab 5): write this part.
    # hint: Reading the total, comparing, then writing is a race: two transfers can both read
    # hint:   the same total before either writes, and both fit. Serialize them per account.
    # hint: Lock a row that always exists before you read: the account's, with SELECT ... FOR
    # hint:   UPDATE. Another transfer from the account then waits here until you commit.
    # hint: Read the day's total in a NEW statement after the lock (in READ COMMITTED each
    # hint:   statement sees what was committed when it started, so it sees the winner's count).
    # hint: The day's first transfer has no lab5_daily_outgoing row yet: FOR UPDATE on that row
    # hint:   locks nothing. Add with INSERT ... ON CONFLICT (account_id, day) DO UPDATE.
    raise NotImplementedError("lab 5: this part is yours to write (see the hint above)")
