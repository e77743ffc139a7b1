"""Idempotency keys in PostgreSQL.

In-flight detection uses `pg_try_advisory_xact_lock` on a 64-bit hash of (principal, key): the
lock lives exactly as long as the transaction that does the work, so a crashed request can never
leave a key stuck "in flight" (no `locked_at` recovery needed), and a concurrent duplicate is
told 409 immediately instead of waiting on the unique index. A hash collision between two
different keys would only produce a spurious 409 for one of them, never a wrong replay.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from fintech_core.db.write_behind import Session
from fintech_core.domain.errors import IdempotencyKeyInFlight
from fintech_core.idempotency.ports import IN_FLIGHT, Claim, StoredKey, StoredResponse


def _dumps(value: Any) -> str:
    return json.dumps(value)  # what psycopg's Json dumper writes: json.dumps' defaults


class SqlIdempotencyStore:
    def __init__(self, conn: Session) -> None:
        self.conn = conn

    async def claim(self, principal: str, key: str) -> StoredKey | None:
        # One round trip: take the lock and read the stored response together. The statement's
        # snapshot is taken just before the lock, so in a microsecond window a response that
        # committed in between is not seen; `save` then hits the primary key at COMMIT, the
        # whole transaction is retried (db/errors.py, service/retry.py), and the retry replays. Correct in
        # every interleaving.
        cur = await self.conn.execute(
            "SELECT l.locked, k.fingerprint, k.response_status, k.response_body,"
            "       k.response_headers"
            "  FROM (SELECT pg_try_advisory_xact_lock(hashtextextended(%(p)s || ':' || %(k)s, 0))"
            "        AS locked) l"
            "  LEFT JOIN idempotency_keys k ON l.locked AND k.principal = %(p)s AND k.key = %(k)s",
            {"p": principal, "k": key},
        )
        row = await cur.fetchone()
        assert row is not None
        if not row[0]:
            raise IdempotencyKeyInFlight(
                "a request with this Idempotency-Key is still being processed; retry shortly"
            )
        if row[1] is None:
            return None
        return StoredKey(row[1], StoredResponse(row[2], row[3], row[4]))

    async def claim_many(self, wanted: Sequence[tuple[str, str]]) -> list[Claim]:
        """`claim` for many (principal, key) pairs in one statement (a group-commit batch). Each
        answer is IN_FLIGHT (another transaction holds the key), the stored key, or None (unused:
        this transaction now holds it). The same snapshot caveat as `claim`, the same cure."""
        cur = await self.conn.execute(
            "SELECT l.locked, k.fingerprint, k.response_status, k.response_body,"
            "       k.response_headers"
            "  FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS x(p, k, o)"
            "  CROSS JOIN LATERAL (SELECT pg_try_advisory_xact_lock("
            "        hashtextextended(x.p || ':' || x.k, 0)) AS locked) l"
            "  LEFT JOIN idempotency_keys k ON l.locked AND k.principal = x.p AND k.key = x.k"
            " ORDER BY x.o",
            ([p for p, _ in wanted], [k for _, k in wanted]),
        )
        claims: list[Claim] = []
        for row in await cur.fetchall():
            if not row[0]:
                claims.append(IN_FLIGHT)
            else:
                claims.append(None if row[1] is None else
                              StoredKey(row[1], StoredResponse(row[2], row[3], row[4])))
        return claims

    async def save(self, principal: str, key: str, fingerprint: str,
                   response: StoredResponse) -> None:
        # Held, so it travels with COMMIT. A concurrent request that settled the same key first
        # makes it fail on the primary key there; db/errors.py retries exactly that violation.
        # Rows: a group-commit batch saves all its keys in one INSERT. The body goes as text
        # and is cast to json, which keeps it as written (the replay is byte-identical).
        await self.conn.hold_rows(
            "idempotency_keys", "INSERT INTO idempotency_keys"
            " (principal, key, fingerprint, response_status, response_body, response_headers)"
            " SELECT p, k, f, s, b::json, h::jsonb FROM unnest(%s::text[], %s::text[], %s::text[],"
            " %s::int[], %s::text[], %s::text[]) AS x(p, k, f, s, b, h)",
            ([principal], [key], [fingerprint], [response.status], [_dumps(response.body)],
             [_dumps(dict(response.headers))]),
        )

    async def reap(self, older_than_hours: int) -> int:
        # count(*) over RETURNING rather than rowcount: in pipeline mode rowcount is unknown until
        # the next sync, and fetching a row is what makes the answer arrive.
        cur = await self.conn.execute(
            "WITH gone AS (DELETE FROM idempotency_keys"
            "  WHERE created_at < now() - make_interval(hours => %s) RETURNING 1)"
            " SELECT count(*) FROM gone",
            (older_than_hours,),
        )
        row = await cur.fetchone()
        return int(row[0]) if row else 0
