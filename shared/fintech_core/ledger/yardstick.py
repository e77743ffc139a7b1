"""Phase 1's yardstick (bench/yardstick.py): the ledger's lock statement (accounts and ledger
rows, overdue holds), the journal entry, its two postings (the posting trigger maintains the
projection), the transfer row and the key: ledger/steps.py's statements."""

from __future__ import annotations

import psycopg

from fintech_core.bench.yardstick import DST, ID_PREFIX, SRC, Yardstick
from fintech_core.ledger.adapters.sql import _LOCK_WITH_ACCOUNTS
from fintech_core.transfers.yardstick import TRANSFER_ROW

# No run can reach it, so funds never run out (the yardstick checks nothing: that is Python).
CREDIT = 10**15


def _setup(conn: psycopg.Connection, n: int) -> None:
    ids = f"('{ID_PREFIX}' || lpad(i::text, 12, '0'))::uuid"
    conn.execute(f"INSERT INTO accounts (id, owner, currency) SELECT {ids}, 'yardstick', 'EUR'"
                 " FROM generate_series(1, %s) i", (n,))
    conn.execute("INSERT INTO ledger_accounts (id, kind, account_id, currency, credit_limit)"
                 f" SELECT {ids}, 'CUSTOMER', {ids}, 'EUR', %s FROM generate_series(1, %s) i",
                 (CREDIT, n))


ENTRY = ("INSERT INTO journal_entries (id, transfer_id, kind, created_at, effective_at)"
         " SELECT j.id, t.id, 'TRANSFER', n.t, n.t FROM t, j, (SELECT clock_timestamp() AS t) n")
POSTINGS = ("INSERT INTO postings (journal_id, account_id, currency, bucket, direction, amount)"
            f" SELECT j.id, x.a, 'EUR', 'POSTED', x.d, 1 FROM j, unnest(ARRAY[{SRC}, {DST}],"
            " ARRAY['DEBIT', 'CREDIT']) WITH ORDINALITY AS x(a, d, o) ORDER BY x.o")
LOCK = (_LOCK_WITH_ACCOUNTS.replace("%(accounts)s", f"ARRAY[{SRC}, {DST}]")
        .replace("%(ids)s", f"ARRAY[{SRC}, {DST}]").replace("%(paying)s", f"ARRAY[{SRC}]"))

LEDGER_YARDSTICK = Yardstick(setup=_setup, lock=LOCK, writes=(ENTRY, POSTINGS, TRANSFER_ROW))
