"""What the database says after a run: the second witness the checker weighs against the log."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg


@dataclass(frozen=True)
class TransferRow:
    id: str
    kind: str
    status: str
    source: str | None
    destination: str
    amount: int
    # A two-phase transfer (a row in phase 1's `holds`): its 201 answered PENDING, and it ends
    # COMPLETED (posted), VOIDED or EXPIRED, e.g. phase 5's review holds.
    hold: bool = False


@dataclass(frozen=True)
class KeyRow:
    status: int
    transfer_id: str | None  # `id` of a stored 201, `transfer_id` of a stored problem


@dataclass
class Facts:
    balances: dict[str, float]  # float only for the naive baseline
    transfers: list[TransferRow] = field(default_factory=list)
    keys: dict[str, KeyRow] = field(default_factory=dict)


def read_facts(database_url: str, target: str, accounts: list[str], principal: str,
               key_prefix: str | None = None) -> Facts:
    """Balances, transfers of the run's accounts and the run's idempotency keys, from one
    snapshot. The run's keys are those of `principal` (phases 0..3: the run's own self-declared
    caller, so *every* key it holds is the run's and an unknown one is a violation) and, when
    `key_prefix` is given, starting with it (phase 4: the principal is the token's subject, the
    lab's driver, shared by every run and tool; the run's keys are those it minted, all
    `<run_id>-<op>`)."""
    with psycopg.connect(database_url, autocommit=True, connect_timeout=10) as conn:
        if target == "naive":
            rows = conn.execute("SELECT id::text, balance FROM naive_accounts"
                                " WHERE id = ANY(%s::int[])", ([int(a) for a in accounts],))
            return Facts({r[0]: r[1] for r in rows.fetchall()})
        # One REPEATABLE READ transaction: balances, transfers and keys from the same snapshot.
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            balances: dict[str, float] = {str(r[0]): int(r[1]) for r in conn.execute(
                "SELECT id, balance FROM accounts WHERE id = ANY(%s::uuid[])", (accounts,))}
            # Holds exist from phase 1 on: asked of the schema, not of a phase number.
            held = ("EXISTS (SELECT 1 FROM holds h WHERE h.transfer_id = t.id)" if conn.execute(
                "SELECT to_regclass('holds') IS NOT NULL").fetchone() == (True,) else "false")
            transfers = [TransferRow(str(r[0]), r[1], r[2], r[3] and str(r[3]), str(r[4]),
                                     int(r[5]), bool(r[6])) for r in conn.execute(
                "SELECT id, kind, status, source_id, destination_id, amount, " + held +
                "  FROM transfers t"
                " WHERE source_id = ANY(%(a)s::uuid[]) OR destination_id = ANY(%(a)s::uuid[])",
                {"a": accounts})]
            keys = {r[0]: KeyRow(r[1], r[2] or r[3]) for r in conn.execute(
                "SELECT key, response_status, response_body::jsonb ->> 'id',"
                "       response_body::jsonb ->> 'transfer_id'"
                "  FROM idempotency_keys WHERE principal = %(p)s"
                "   AND (%(prefix)s::text IS NULL OR starts_with(key, %(prefix)s::text))",
                {"p": principal, "prefix": key_prefix})}
    return Facts(balances, transfers, keys)
