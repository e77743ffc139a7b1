"""`verify`: recompute everything the ledger caches from the postings, and report any drift.

All queries run in one REPEATABLE READ READ ONLY transaction: they see one snapshot, so transfers
committing meanwhile can never show up as a false drift, and verify never blocks a writer. It
re-checks what the triggers already enforce, because a trigger can be disabled by a superuser
and a restored backup can be partial: verify trusts nothing but the postings themselves.
"""

from __future__ import annotations

from typing import Any

from fintech_core.db.write_behind import Session
from fintech_core.ledger.views import CurrencyTotal, VerifyReport

PROJECTION = """
WITH sums AS (
  SELECT account_id, count(*) AS n,
         coalesce(sum(signed_amount) FILTER (WHERE bucket = 'POSTED'), 0) AS posted,
         coalesce(-sum(signed_amount) FILTER (WHERE bucket = 'PENDING_OUT'), 0) AS pending_out,
         coalesce(sum(signed_amount) FILTER (WHERE bucket = 'PENDING_IN'), 0) AS pending_in
    FROM postings GROUP BY account_id)
SELECT l.id FROM ledger_accounts l LEFT JOIN sums s ON s.account_id = l.id
 WHERE (l.posted, l.pending_out, l.pending_in, l.version)
       IS DISTINCT FROM (coalesce(s.posted, 0), coalesce(s.pending_out, 0),
                         coalesce(s.pending_in, 0), coalesce(s.n, 0))
 ORDER BY l.id"""

MIRROR = """
SELECT a.id FROM accounts a LEFT JOIN ledger_accounts l ON l.id = a.id
 WHERE l.id IS NULL OR a.balance <> l.posted ORDER BY a.id"""

UNBALANCED = """
SELECT j.id FROM journal_entries j LEFT JOIN postings p ON p.journal_id = j.id
 GROUP BY j.id HAVING count(p.id) < 2
UNION
SELECT journal_id FROM postings GROUP BY journal_id, currency, bucket = 'POSTED'
 HAVING sum(signed_amount) <> 0"""

RUNNING = """
SELECT count(*) FROM (
  SELECT balance_after, bucket,
         sum(signed_amount) OVER (PARTITION BY account_id, bucket ORDER BY account_seq) AS run
    FROM postings) x
 WHERE balance_after <> CASE bucket WHEN 'PENDING_OUT' THEN -run ELSE run END"""

HOLDS = """
WITH open_holds AS (SELECT t.source_id, t.destination_id, t.amount FROM transfers t
                JOIN holds h ON h.transfer_id = t.id WHERE t.status = 'PENDING')
SELECT l.id FROM ledger_accounts l
 WHERE l.pending_out <> coalesce((SELECT sum(amount) FROM open_holds WHERE source_id = l.id), 0)
    OR l.pending_in <> coalesce((SELECT sum(amount) FROM open_holds WHERE destination_id = l.id), 0)
 ORDER BY l.id"""

# A transfer's status must agree with what its entries moved: COMPLETED moved money (all of it,
# unless a hold was posted partially), nothing else did; PENDING is exactly an open hold.
TRANSFERS = """
WITH moved AS (
  SELECT j.transfer_id,
         coalesce(sum(p.amount) FILTER (WHERE p.bucket = 'POSTED' AND p.direction = 'CREDIT'), 0)
           AS posted
    FROM journal_entries j JOIN postings p ON p.journal_id = j.id GROUP BY j.transfer_id)
SELECT t.id FROM transfers t LEFT JOIN moved m ON m.transfer_id = t.id
  LEFT JOIN holds h ON h.transfer_id = t.id
 WHERE CASE t.status
         WHEN 'COMPLETED' THEN coalesce(m.posted, 0) NOT BETWEEN
              (CASE WHEN h.transfer_id IS NULL THEN t.amount ELSE 1 END) AND t.amount
         WHEN 'PENDING' THEN h.transfer_id IS NULL OR coalesce(m.posted, 0) <> 0
         ELSE coalesce(m.posted, 0) <> 0 END
 ORDER BY t.id"""

TOTALS = """
SELECT currency,
       coalesce(sum(posted) FILTER (WHERE kind = 'CUSTOMER'), 0),
       coalesce(sum(posted) FILTER (WHERE kind = 'SYSTEM'), 0),
       sum(pending_out), sum(pending_in)
  FROM ledger_accounts GROUP BY currency ORDER BY currency"""

COUNTS = """
SELECT (SELECT count(*) FROM ledger_accounts), (SELECT count(*) FROM journal_entries),
       (SELECT count(*) FROM postings)"""


async def _all(conn: Session, query: str) -> list[Any]:
    cur = await conn.execute(query)
    return [r[0] if len(r) == 1 else r for r in await cur.fetchall()]


async def verify(conn: Session) -> VerifyReport:
    """Must be the first statement of its transaction (it sets the isolation level)."""
    await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
    accounts, journal_entries, postings = (await _all(conn, COUNTS))[0]
    return VerifyReport(
        accounts=accounts, journal_entries=journal_entries, postings=postings,
        projection_drift=await _all(conn, PROJECTION),
        mirror_drift=await _all(conn, MIRROR),
        unbalanced_entries=await _all(conn, UNBALANCED),
        running_balance_breaks=(await _all(conn, RUNNING))[0],
        hold_mismatches=await _all(conn, HOLDS),
        transfer_mismatches=await _all(conn, TRANSFERS),
        totals=[CurrencyTotal(str(c), int(cust), int(sys), int(out), int(inc))
                for c, cust, sys, out, inc in await _all(conn, TOTALS)],
    )
