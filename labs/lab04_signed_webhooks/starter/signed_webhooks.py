# GENERATED from the lab's solution/ by `./fcl lab generate`: do not edit in the repository.
# Start lab 4 as its README says (that copies this file to your workspace) and edit your copy.
"""Lab 4: verify a Standard Webhooks signature, then apply the webhook once.

A payment provider tells us by webhook that a payment succeeded, failed or was refunded. Anyone
on the internet can POST to the webhook URL, so a request counts only if its signature proves the
provider sent these exact bytes, recently. And the provider delivers *at least* once, in no
particular order: a retry after a lost 2xx arrives again, a refund can overtake the success it
refunds. The parser, the payment-status rules, the effect and the endpoint (`receive`) are given;
your parts are `verify` and `handle`.

The signature scheme is Standard Webhooks (https://www.standardwebhooks.com/), as Svix and
others send it:

    webhook-id:        msg_2b7...             the same on every retry of one message
    webhook-timestamp: 1767225600             seconds since the epoch, when it was signed
    webhook-signature: v1,K5oZ...= v1,Qx9...  space-separated; each "v1," + base64 of
                       HMAC-SHA256(secret, f"{webhook_id}.{webhook_timestamp}.{body}")
    secret:            whsec_<base64 of the key bytes>
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import psycopg

TOLERANCE_SECONDS = 300  # a signed message older or newer than this is refused (replay window)
SECRET_PREFIX = "whsec_"

APPLIED, DUPLICATE, OUT_OF_ORDER = "applied", "duplicate", "out-of-order"

# The status each event moves a payment to, and how far along that status is: a payment only
# moves to a status further along (failed and succeeded are both final outcomes of a charge).
TARGET_STATUS = {"payment.succeeded": "succeeded", "payment.failed": "failed",
                 "payment.refunded": "refunded"}
STATUS_RANK = {"pending": 0, "succeeded": 1, "failed": 1, "refunded": 2}
# What a payment in each status contributes to its merchant's balance.
BALANCE = {"pending": 0, "succeeded": 1, "failed": 0, "refunded": 0}


class WebhookRejected(Exception):
    """The request is not a webhook we can trust (missing headers, stale, bad signature)."""


class InvalidEvent(Exception):
    """A correctly signed body that is not an event this service understands."""


@dataclass(frozen=True)
class Event:
    type: str  # one of TARGET_STATUS
    payment_id: str


def decode_secret(secret: str) -> bytes:
    """GIVEN: the HMAC key bytes of a "whsec_<base64>" secret."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    return base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)


def parse_event(raw_body: bytes) -> Event:
    """GIVEN: decode a verified body, {"type": ..., "data": {"payment_id": ...}}, or raise
    InvalidEvent. Parse only after verify: the signature covers the bytes, not the JSON."""
    try:
        data = json.loads(raw_body)
        event = Event(data["type"], data["data"]["payment_id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidEvent(f"not a payment event: {exc!r}") from None
    if event.type not in TARGET_STATUS or not isinstance(event.payment_id, str):
        raise InvalidEvent(f"unknown event type {event.type!r}")
    return event


def lock_payment(conn: psycopg.Connection, payment_id: str) -> str:
    """GIVEN: the payment's status, its row locked until your transaction ends. Call it inside
    the transaction that changes the payment, or the lock is released at once."""
    row = conn.execute("SELECT status FROM lab4_payments WHERE payment_id = %s FOR UPDATE",
                       (payment_id,)).fetchone()
    if row is None:
        raise LookupError(f"no payment {payment_id}")  # a 500: the provider retries later
    return str(row[0])


def apply_effect(conn: psycopg.Connection, webhook_id: str, payment_id: str, old: str,
                 new: str) -> None:
    """GIVEN: move the payment from `old` to `new` and post the merchant's balance change. Not
    idempotent by itself; call it inside the transaction you opened."""
    merchant, amount = conn.execute(
        "UPDATE lab4_payments SET status = %s WHERE payment_id = %s RETURNING merchant, amount",
        (new, payment_id)).fetchone()
    delta = (BALANCE[new] - BALANCE[old]) * amount
    if delta:
        conn.execute("INSERT INTO lab4_merchant_ledger (merchant, payment_id, webhook_id, amount)"
                     " VALUES (%s, %s, %s, %s)", (merchant, payment_id, webhook_id, delta))


def verify(headers: Mapping[str, str], raw_body: bytes, secrets: Sequence[str],
           now: float) -> str:
    """Return the webhook-id if one of the signatures was made with one of `secrets` over these
    exact bytes, signed within TOLERANCE_SECONDS of `now`; else raise WebhookRejected.

    `headers` has lower-case names. `secrets` holds every secret currently valid ("whsec_...").
    Never raise anything but WebhookRejected for a bad request: a 500 would make the sender retry.
    """
    # TODO (lab 4): write this part.
    # hint: Read webhook-id, webhook-timestamp and webhook-signature; any missing: reject.
    # hint: The timestamp is whole seconds; more than TOLERANCE_SECONDS from `now`, either way:
    # hint:   reject (an old one is a replay, a future one was made to be replayed later).
    # hint: Sign f"{id}.{timestamp}." + raw_body, the bytes as received: never re-serialise JSON.
    # hint: Try every "v1,<base64>" entry against every secret; skip entries you cannot decode.
    # hint: Compare with hmac.compare_digest, never ==: == stops at the first differing byte.
    raise NotImplementedError("lab 4: this part is yours to write (see the hint above)")


def handle(conn: psycopg.Connection, headers: Mapping[str, str], raw_body: bytes) -> str:
    """Apply one verified webhook at most once; answer APPLIED, DUPLICATE or OUT_OF_ORDER.

    `conn` is in autocommit mode. When this returns, what it did must be committed: the endpoint
    answers 2xx next, and the provider never sends this message again. An exception means
    nothing happened: the endpoint answers 500 and the provider retries.
    """
    # TODO (lab 4): write this part.
    # hint: parse_event(raw_body); the webhook-id header is the message's identity.
    # hint: Record the webhook in lab4_webhook_inbox and apply the effect in ONE transaction.
    # hint: INSERT ... ON CONFLICT DO NOTHING RETURNING: no row back means a redelivery.
    # hint: lock_payment, then compare STATUS_RANK: a status not further along changes nothing
    # hint:   (but stays in the inbox: the message was received, and a retry is a duplicate).
    raise NotImplementedError("lab 4: this part is yours to write (see the hint above)")


def receive(conn: psycopg.Connection, headers: Mapping[str, str], raw_body: bytes,
            secrets: Sequence[str], now: float) -> tuple[int, str]:
    """GIVEN: the webhook endpoint, as (HTTP status, outcome). 2xx only once `handle` returned,
    i.e. after its transaction committed; a 4xx tells the sender not to retry."""
    try:
        verify(headers, raw_body, secrets, now)
    except WebhookRejected as exc:
        return 401, f"rejected: {exc}"
    try:
        return 200, handle(conn, headers, raw_body)
    except InvalidEvent as exc:
        return 422, f"invalid: {exc}"
