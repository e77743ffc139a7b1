"""The activity cursor is opaque and stable: a position survives the round trip exactly, and a
string the API did not issue is a 422 problem (BadCursor), never a crash."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fintech_core.accounts.routes import BadCursor
from fintech_core.events import cursor
from fintech_core.events.reads import ActivityPosition

positions = st.builds(
    ActivityPosition,
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                 timezones=st.just(UTC)),
    st.uuids(), st.sampled_from(cursor.BUCKETS))


@given(positions)
def test_a_position_survives_the_round_trip(p: ActivityPosition) -> None:
    encoded = cursor.encode(p)
    assert len(encoded) == 34 and cursor.decode(encoded) == p
    assert cursor.encode(p) == encoded


@given(st.from_regex(cursor.CURSOR_PATTERN, fullmatch=True))
def test_every_string_the_pattern_allows_is_a_position_or_a_bad_cursor(raw: str) -> None:
    with contextlib.suppress(BadCursor):
        assert cursor.decode(raw).bucket in cursor.BUCKETS


def test_a_foreign_cursor_is_refused() -> None:
    with pytest.raises(BadCursor):
        cursor.decode("_" * 34)  # bucket byte 0xff
    with pytest.raises(BadCursor):
        cursor.decode("A" * 33)
    p = ActivityPosition(datetime(2026, 1, 1, tzinfo=UTC), UUID(int=1), "PENDING_IN")
    assert cursor.decode(cursor.encode(p)) == p
