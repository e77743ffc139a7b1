"""Which PostgreSQL errors are benign races, worth running the whole transaction again.

- 40001 serialization failure and 40P01 deadlock: PostgreSQL aborted a transaction that did
  nothing wrong.
- A unique violation of the idempotency key's primary key: two requests with one key both found
  it unused in a microsecond window (idempotency/sql.py); the second one's INSERT hits the key.
  In pipeline mode that error may surface at COMMIT rather than at the INSERT, so it is
  recognised by the constraint's name wherever it appears. The retry finds the first response
  and replays it. Any other unique violation is a bug or bad data, never retried.
"""

from __future__ import annotations

import psycopg.errors

RACED_KEY_CONSTRAINT = "idempotency_keys_pkey"


def is_benign_race(exc: BaseException) -> bool:
    if isinstance(exc, psycopg.errors.SerializationFailure | psycopg.errors.DeadlockDetected):
        return True
    return (isinstance(exc, psycopg.errors.UniqueViolation)
            and exc.diag.constraint_name == RACED_KEY_CONSTRAINT)
