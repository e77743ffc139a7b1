"""MemoryFeatureStore's window semantics: features read before the attempt, windows keyed on the
attempt's own time (edges exclusive at t - W), the profile learning only through `learn`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from fintech_core.fraud.features import MemoryFeatureStore
from fintech_core.fraud.model import Attempt

pytestmark = pytest.mark.anyio
T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)
A, B, C, D = (uuid.UUID(int=i) for i in range(1, 5))


def at(seconds: float, src: uuid.UUID | None, dst: uuid.UUID | None, amount: int = 100,
       ip: str | None = "10.0.0.1", device: str | None = None) -> Attempt:
    kind = "DEPOSIT" if src is None else "WITHDRAWAL" if dst is None else "TRANSFER"
    return Attempt(uuid.uuid4(), kind, src, dst, amount, "EUR", T0 + timedelta(seconds=seconds),
                   "who", ip, device)


async def test_windows_count_what_came_before_and_forget_at_the_edge() -> None:
    store = MemoryFeatureStore()
    first = await store.observe(at(0, A, B, 300))
    assert (first.src_out_count_10m, first.ip_out_count_10m, first.new_beneficiary) == (0, 0, True)
    second = await store.observe(at(60, A, C, 200))
    assert (second.src_out_count_10m, second.src_out_sum_10m) == (1, 300)
    # Exactly ten minutes after the first: it has left the 10-minute window, not the hour's.
    edge = await store.observe(at(600, A, B, 50))
    assert (edge.src_out_count_10m, edge.src_out_sum_10m) == (1, 200)
    assert (edge.src_out_count_1h, edge.src_out_sum_1h, edge.ip_out_count_10m) == (2, 500, 1)
    assert edge.src_new_beneficiaries_1h == 2  # B and C: never learned, still new
    later = await store.observe(at(600 + 3600, A, B))
    assert (later.src_out_count_1h, later.src_new_beneficiaries_1h) == (0, 0)


async def test_credits_withdrawals_destinations_and_devices() -> None:
    store = MemoryFeatureStore()
    await store.observe(at(0, None, A, 70_000))
    await store.observe(at(10, C, A, 5_000, device="phone"))
    await store.observe(at(20, A, None, 1_000, device="phone"))
    f = await store.observe(at(30, A, B, 60_000, device="phone"))
    assert (f.src_in_sum_1h, f.src_withdrawal_count_1h, f.device_sources_1h) == (75_000, 1, 2)
    assert (f.dst_in_count_1h, f.dst_distinct_sources_1h) == (0, 0)
    g = await store.observe(at(40, D, B, 1, device="tablet"))
    assert (g.dst_in_count_1h, g.dst_distinct_sources_1h, g.device_sources_1h) == (1, 1, 0)


async def test_the_profile_learns_only_what_the_engine_let_through() -> None:
    store = MemoryFeatureStore()
    for i, amount in enumerate((1_000, 3_000)):
        a = at(i, A, B, amount)
        await store.observe(a)
        await store.learn(a)
    await store.observe(at(5, A, C, 999_999))  # observed (blocked, say), never learned
    f = await store.observe(at(6, A, C, 10))
    assert (f.src_history_count, f.src_avg_amount, f.new_beneficiary) == (2, 2_000.0, True)
    known = await store.observe(at(7, A, B, 10))
    assert known.new_beneficiary is False
    deposit = await store.observe(at(8, None, A, 10))
    assert (deposit.src_history_count, deposit.new_beneficiary) == (0, False)
