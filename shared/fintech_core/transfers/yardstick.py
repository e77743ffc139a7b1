"""Phase 0's yardstick (bench/yardstick.py): lock both accounts, move the balance column, record
the transfer and the key; the statements of transfers/steps.py and their SQL adapters."""

from __future__ import annotations

import psycopg

from fintech_core.bench.yardstick import DST, ID_PREFIX, SRC, Yardstick


def _setup(conn: psycopg.Connection, n: int) -> None:
    conn.execute(
        "INSERT INTO accounts (id, owner, currency, balance)"
        f" SELECT ('{ID_PREFIX}' || lpad(i::text, 12, '0'))::uuid, 'yardstick', 'EUR', 1e12"
        " FROM generate_series(1, %s) i", (n,))


TRANSFER_ROW = (
    "INSERT INTO transfers (id, kind, source_id, destination_id, amount, currency, status,"
    f" reference, failure_code, created_at) SELECT t.id, 'TRANSFER', {SRC}, {DST}, 1, 'EUR',"
    " 'COMPLETED', NULL, NULL, now() FROM t")

PHASE0_YARDSTICK = Yardstick(
    setup=_setup,
    lock=("SELECT id, owner, currency, status, balance, created_at FROM accounts"
          f" WHERE id = ANY(ARRAY[{SRC}, {DST}]) ORDER BY id FOR UPDATE"),
    writes=(
        "UPDATE accounts a SET balance = a.balance + d.delta, updated_at = now()"
        f" FROM (SELECT id, sum(delta)::bigint AS delta FROM unnest(ARRAY[{SRC}, {DST}],"
        " ARRAY[-1, 1]::bigint[]) AS u(id, delta) GROUP BY id) d WHERE a.id = d.id",
        TRANSFER_ROW,
    ),
)
