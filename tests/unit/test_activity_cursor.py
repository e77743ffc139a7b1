"""The activity cursor is opaque and stable: a position survives the round trip exactly, and
every string the OpenAPI pattern allows decodes to some position, so a schema-valid cursor is
never refused (the pattern itself is enforced by the route: a 422)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from fintech_core.events import cursor
from fintech_core.events.reads import ActivityPosition

positions = st.builds(
    ActivityPosition,
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31),
                 timezones=st.just(UTC)),
    st.uuids(), st.sampled_from(cursor.BUCKETS))


@given(positions)
def test_a_position_survives_the_round_trip(p: ActivityPosition) -> None:
    encoded = cursor.encode(p)
    assert re.fullmatch(cursor.CURSOR_PATTERN, encoded)
    assert cursor.decode(encoded) == p and cursor.encode(p) == encoded


@given(st.from_regex(cursor.CURSOR_PATTERN, fullmatch=True))
def test_every_string_the_pattern_allows_is_a_position(raw: str) -> None:
    p = cursor.decode(raw)
    assert p.bucket in cursor.BUCKETS and p.recorded_at.tzinfo is UTC


def test_out_of_range_parts_are_clamped_not_crashes() -> None:
    far = cursor.decode("f" + "_" * 33)  # the latest int64 instant, bucket byte 0xff
    assert far.recorded_at == datetime.max.replace(tzinfo=UTC)
    assert far.bucket == cursor.BUCKETS[0xFF % 3] and far.entry_id == UUID(int=2**128 - 1)
    assert cursor.decode("g" + "A" * 33).recorded_at == datetime.min.replace(tzinfo=UTC)
