"""The activity cursor: an ActivityPosition as 34 opaque characters. Pure: no I/O.

Layout, before unpadded base64url: recorded_at as signed microseconds since the epoch (8 bytes,
big-endian), entry_id (16 bytes), the bucket's index in BUCKETS (1 byte). The same position
always gives the same cursor.

Like the accounts cursor, every string the pattern allows decodes to *some* position (an
out-of-range instant is clamped, a bucket byte taken modulo), so every cursor the OpenAPI
schema allows is one the API accepts; a string outside the pattern is a 422.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from uuid import UUID

from fintech_core.events.reads import ActivityPosition

# Append only: an index is part of every cursor already handed out.
BUCKETS = ("POSTED", "PENDING_OUT", "PENDING_IN")
CURSOR_PATTERN = r"^[A-Za-z0-9_-]{34}$"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
_EARLIEST = (datetime.min.replace(tzinfo=UTC) - _EPOCH) // _MICRO
_LATEST = (datetime.max.replace(tzinfo=UTC) - _EPOCH) // _MICRO


def encode(p: ActivityPosition) -> str:
    micros = (p.recorded_at - _EPOCH) // _MICRO
    raw = micros.to_bytes(8, "big", signed=True) + p.entry_id.bytes \
        + BUCKETS.index(p.bucket).to_bytes(1, "big")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> ActivityPosition:
    """`cursor` must match CURSOR_PATTERN (the route's query validation guarantees it)."""
    raw = base64.urlsafe_b64decode(cursor + "==")
    micros = min(max(int.from_bytes(raw[:8], "big", signed=True), _EARLIEST), _LATEST)
    return ActivityPosition(_EPOCH + micros * _MICRO, UUID(bytes=raw[8:24]),
                            BUCKETS[raw[24] % len(BUCKETS)])
