# GENERATED from the lab's solution/ by `./fcl lab generate`: do not edit in the repository.
# Start lab 1 as its README says (that copies this file to your workspace) and edit your copy.
"""Lab 1: make the naive transfer idempotent with an Idempotency-Key store.

`move_money` is given and is correct inside one transaction: it locks both rows, refuses an
overdraft and records the transfer. What it cannot do is recognise a retry. A client whose
request timed out sends it again with the same key; it must get the first answer back, and the
money must move once. Your part is `transfer_once`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

import psycopg


class KeyReused(Exception):
    """The key was first used for a different request (the real API answers 422)."""


@dataclass(frozen=True)
class TransferRequest:
    source: str
    destination: str
    amount: int  # minor units (cents), never a float


@dataclass(frozen=True)
class Response:
    status: int
    body: dict[str, Any]
    replayed: bool = False  # True when this is a stored first response, not a new execution


def fingerprint(request: TransferRequest) -> str:
    """A stable hash of what the request asks for; equal requests give equal fingerprints."""
    canonical = json.dumps(asdict(request), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def move_money(conn: psycopg.Connection, request: TransferRequest) -> Response:
    """GIVEN, correct: call it inside a transaction you opened. Locks both accounts in id order
    (so two opposite transfers cannot deadlock), then moves the money or explains why not."""
    ids = sorted({request.source, request.destination})
    rows = conn.execute("SELECT id, balance FROM lab1_accounts WHERE id = ANY(%s)"
                        " ORDER BY id FOR UPDATE", (ids,)).fetchall()
    balances = dict(rows)
    if request.source not in balances or request.destination not in balances:
        return Response(404, {"error": "account-not-found"})
    if balances[request.source] < request.amount:
        return Response(422, {"error": "insufficient-funds"})
    conn.execute("UPDATE lab1_accounts SET balance = balance - %s WHERE id = %s",
                 (request.amount, request.source))
    conn.execute("UPDATE lab1_accounts SET balance = balance + %s WHERE id = %s",
                 (request.amount, request.destination))
    row = conn.execute("INSERT INTO lab1_transfers (source, destination, amount)"
                       " VALUES (%s, %s, %s) RETURNING id",
                       (request.source, request.destination, request.amount)).fetchone()
    assert row is not None
    return Response(201, {"transfer_id": row[0], "amount": request.amount})


def transfer_once(conn: psycopg.Connection, key: str, request: TransferRequest) -> Response:
    """Run `move_money` at most once per key and answer every retry with the first response.

    `conn` is in autocommit mode: a statement outside `with conn.transaction():` commits on its
    own. Raises KeyReused if `key` was first used with a different request. A response that
    says no (404, 422) is an answer too: it is stored and replayed like a 201.
    """
    # TODO (lab 1): write this part.
    # hint: Use ONE transaction for everything, so the key and the money commit together.
    # hint: Claim the key first: INSERT ... ON CONFLICT (key) DO NOTHING RETURNING key.
    # hint: No row back means it was used: compare fingerprint(request), then replay.
    # hint: Otherwise call move_money and store its response in the key's row.
    raise NotImplementedError("lab 1: this part is yours to write (see the hint above)")
