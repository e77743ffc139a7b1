"""The round-trip probe runs against a real PostgreSQL and reports a cost for every mode (figures
only: which mode is cheaper is a benchmark finding, never a test assertion)."""

from __future__ import annotations

import pytest

from fintech_core.bench.roundtrip import measure

pytestmark = pytest.mark.integration


def test_every_mode_reports_a_positive_cost_per_call(db0: str) -> None:
    figures = measure(db0, 50)
    assert len(figures) == 5
    for mode, cost in figures.items():
        assert cost["cpu_us"] > 0 and cost["wall_us"] > 0, mode
