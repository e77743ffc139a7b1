"""The SQL-only yardstick: the statements the API sends for one transfer, driven by pgbench.

Each phase declares its yardstick (`Phase.yardstick`, the last phase's wins): the statements of
one `POST /transfers` as PostgreSQL's log shows them for that composition (BEGIN, the key claim,
the lock statement, the one statement of held writes, COMMIT), with the same tables, triggers
and indexes, on a database of its own migrated to the same phase. pgbench's C client costs
almost nothing per statement, so API / yardstick is what Python, HTTP and the driver cost, and
yardstick / tpcb-like is what the lab's schema costs (triggers, indexes, JSON) over pgbench's.

What it leaves out, by design: the checks (they are Python: funds are not checked, so its
accounts get a credit limit that no run can reach) and the relay and consumers (no worker reads
its database).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import psycopg

# Accounts 1..n get ids the script can compute from their number, so pgbench needs no lookup.
ID_PREFIX = "00000000-0000-4000-8000-"


def account_id(n: int) -> str:
    return f"{ID_PREFIX}{n:012d}"


def uuid_of(var: str) -> str:
    """The SQL for account number `:var`'s id."""
    return f"('{ID_PREFIX}' || lpad(:{var}::text, 12, '0'))::uuid"


SRC, DST = uuid_of("a"), uuid_of("b")
KEY = "('ys-' || :client_id || '-' || :k)"
# What POST /transfers stores for its key: a transfer resource of the API's size and shape.
RESPONSE = ('{"id": "0190d3c5-5f6e-7a3b-9c1d-2e4f5a6b7c8d", "kind": "TRANSFER", '
            '"source_account_id": "00000000-0000-4000-8000-000000000001", '
            '"destination_account_id": "00000000-0000-4000-8000-000000000002", "amount": 1, '
            '"currency": "EUR", "status": "COMPLETED", "reference": null, "failure_code": null, '
            '"created_at": "2025-01-01T00:00:00.000000Z"}')

CLAIM = (
    "SELECT l.locked, k.fingerprint, k.response_status, k.response_body, k.response_headers"
    f" FROM (SELECT pg_try_advisory_xact_lock(hashtextextended('bench:' || {KEY}, 0)) AS locked) l"
    f" LEFT JOIN idempotency_keys k ON l.locked AND k.principal = 'bench' AND k.key = {KEY};")

SAVE_KEY = (
    "INSERT INTO idempotency_keys (principal, key, fingerprint, response_status, response_body,"
    f" response_headers) SELECT 'bench', {KEY}, md5({KEY}), 201, '{RESPONSE}'::json,"
    " '{\"Location\": \"/transfers/x\"}'::jsonb")


@dataclass(frozen=True)
class Yardstick:
    setup: Callable[[psycopg.Connection, int], None]  # open and fund accounts 1..n
    lock: str  # the lock statement
    writes: tuple[str, ...]  # the held writes, sent as one statement of CTEs; `t.id` is the
    # transfer id, `j.id` a journal entry id, both fresh per transaction

    def script(self, accounts: int, hot: bool) -> str:
        pick = ("\\set a random(2, :n)\n\\set b 1\n" if hot else
                "\\set a random(1, :n)\n\\set b 1 + (:a + random(0, :n - 2)) % :n\n")
        ctes = ", ".join(f"w{i} AS ({w})" for i, w in enumerate((*self.writes, SAVE_KEY)))
        return (f"\\set n {accounts}\n{pick}\\set k random(1, 1000000000000000)\n"
                "BEGIN;\n" + CLAIM + "\n" + self.lock + ";\n"
                "WITH t AS (SELECT gen_random_uuid() AS id), j AS (SELECT gen_random_uuid() AS id),"
                f" {ctes} SELECT;\nEND;\n")


def prepare(url: str, yardstick: Yardstick, accounts: int) -> None:
    with psycopg.connect(url, autocommit=False) as conn:
        yardstick.setup(conn, accounts)
        conn.commit()
