"""The pure parts of the phase-2 benchmark: the open-loop schedule, lag percentiles, the relay
rate from its claims, and the events verdict, which must fail on each kind of doctored window.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from fintech_core.bench.pacing import Schedule
from fintech_core.events.bench_facts import WindowFacts, lag_stats, relay_rate, verdict

IDS = [f"e{i}" for i in range(10)]
CLEAN = WindowFacts(event_ids=IDS, processed={"activity": list(IDS), "audit": list(IDS)},
                    lags_ms={"activity": [5.0] * 10, "audit": [6.0] * 10},
                    dead_letters={"activity": 0, "audit": 0})


def test_schedule_hands_out_each_slot_once_at_start_plus_i_over_rate() -> None:
    s = Schedule(rate=50, count=3, start=100.0)
    assert [s.take(), s.take(), s.take(), s.take()] == [0, 1, 2, None]
    assert [s.due(i) for i in range(3)] == pytest.approx([100.0, 100.02, 100.04])


def test_a_clean_window_passes_every_check() -> None:
    checks, detail = verdict(CLEAN, created=10, caught_up=True, read_models_ok=True)
    assert all(checks.values()), checks
    assert detail["audit"] == {"missing": 0, "duplicates": 0, "foreign": 0}


@pytest.mark.parametrize(("doctored", "created", "failed", "consumer_detail"), [
    # a consumer never processed one event of the window
    (replace(CLEAN, processed={"activity": IDS[:-1], "audit": list(IDS)}), 10,
     "each_event_processed_once", {"missing": 1, "duplicates": 0, "foreign": 0}),
    # a consumer processed one event twice
    (replace(CLEAN, processed={"activity": [*IDS, "e3"], "audit": list(IDS)}), 10,
     "each_event_processed_once", {"missing": 0, "duplicates": 1, "foreign": 0}),
    # a consumer recorded an event that is not in the window's outbox
    (replace(CLEAN, processed={"activity": [*IDS[:-1], "stranger"], "audit": list(IDS)}), 10,
     "each_event_processed_once", {"missing": 1, "duplicates": 0, "foreign": 1}),
    # a 201 the outbox never announced
    (CLEAN, 11, "one_event_per_201", None),
    (replace(CLEAN, dead_letters={"activity": 0, "audit": 1}), 10, "no_dead_letters", None),
])
def test_each_doctored_window_fails_its_check(doctored: WindowFacts, created: int, failed: str,
                                              consumer_detail: dict[str, int] | None) -> None:
    checks, detail = verdict(doctored, created=created, caught_up=True, read_models_ok=True)
    assert checks[failed] is False
    assert [k for k, v in checks.items() if not v] == [failed]
    if consumer_detail is not None:
        assert detail["activity"] == consumer_detail


def test_not_caught_up_or_read_model_drift_fails() -> None:
    checks, _ = verdict(CLEAN, created=10, caught_up=False, read_models_ok=False)
    assert checks["events_caught_up"] is False and checks["read_models_verify"] is False


def test_no_consumer_at_all_is_not_a_pass() -> None:
    checks, _ = verdict(replace(CLEAN, processed={}), created=10, caught_up=True,
                        read_models_ok=True)
    assert checks["each_event_processed_once"] is False


def test_lag_stats_are_nearest_rank_percentiles() -> None:
    stats = lag_stats([float(ms) for ms in range(1, 101)])
    assert stats == {"count": 100, "p50": 51.0, "p95": 96.0, "p99": 100.0, "max": 100.0}
    assert lag_stats([]) == {"count": 0, "p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}


def test_relay_rate_counts_whole_claim_cycles_after_the_first() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    claims = [(500, t0 + timedelta(seconds=2.0)), (500, t0 + timedelta(seconds=2.25)),
              (500, t0 + timedelta(seconds=2.5)), (100, t0 + timedelta(seconds=2.6))]
    out = relay_rate(claims, started_at=t0)
    assert out["events"] == 1600 and out["batches"] == 4
    assert out["events_per_second"] == pytest.approx(1100 / 0.6, rel=1e-3)  # 1833.3
    assert out["first_publish_after_s"] == 2.0  # start-up: kept out of the steady rate
    assert out["from_start_events_per_second"] == pytest.approx(1600 / 2.6, rel=1e-3)


def test_relay_rate_with_one_claim_has_no_steady_rate() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    out = relay_rate([(40, t0 + timedelta(seconds=1))], started_at=t0)
    assert out["events_per_second"] is None and out["from_start_events_per_second"] == 40.0
    assert relay_rate([], started_at=t0)["events"] == 0
