"""The activity cursor: an ActivityPosition as 34 opaque characters. Pure: no I/O.

Layout, before unpadded base64url: recorded_at as signed microseconds since the epoch (8 bytes,
big-endian), entry_id (16 bytes), the bucket's index in BUCKETS (1 byte). The same position
always gives the same cursor, and every 34-character string the pattern allows decodes to a
position or to a 422, never to a 500.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta
from uuid import UUID

from fintech_core.accounts.routes import BadCursor
from fintech_core.events.reads import ActivityPosition

# Append only: an index is part of every cursor already handed out.
BUCKETS = ("POSTED", "PENDING_OUT", "PENDING_IN")
CURSOR_PATTERN = r"^[A-Za-z0-9_-]{34}$"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SIZE = 8 + 16 + 1


def encode(p: ActivityPosition) -> str:
    micros = (p.recorded_at - _EPOCH) // timedelta(microseconds=1)
    raw = micros.to_bytes(8, "big", signed=True) + p.entry_id.bytes \
        + BUCKETS.index(p.bucket).to_bytes(1, "big")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> ActivityPosition:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        if len(raw) != _SIZE or raw[24] >= len(BUCKETS):
            raise ValueError("wrong size or bucket")
        at = _EPOCH + timedelta(microseconds=int.from_bytes(raw[:8], "big", signed=True))
    except (binascii.Error, ValueError, OverflowError) as exc:
        raise BadCursor("cursor is not one this API issued") from exc
    return ActivityPosition(at, UUID(bytes=raw[8:24]), BUCKETS[raw[24]])
