"""A chaos run asked to cross access-token expiries (phase 4, `fcl chaos --token-ttl`) is judged
on having crossed one: otherwise it did not test what it claims, and that is a violation."""

from __future__ import annotations

from fintech_core.chaos.config import ChaosConfig
from fintech_core.chaos.runner import _token_expiry


def tokens(crossed: int) -> dict:
    return {"kind": "tokens", "ttl_s": 5, "grants": crossed, "expiries_crossed": crossed,
            "retried_after_401": 0}


def test_a_run_that_crossed_an_expiry_passes() -> None:
    assert _token_expiry([tokens(3)], ChaosConfig(extra={"token_ttl_s": 5})) == []


def test_a_run_that_crossed_none_is_a_violation() -> None:
    found = _token_expiry([tokens(0)], ChaosConfig(extra={"token_ttl_s": 5}))
    assert [v.kind for v in found] == ["no-token-expiry"]


def test_a_run_without_token_figures_is_a_violation_when_expiries_were_asked() -> None:
    assert [v.kind for v in _token_expiry([], ChaosConfig(extra={"token_ttl_s": 5}))] == [
        "no-token-expiry"]


def test_runs_that_asked_for_nothing_are_not_judged_on_tokens() -> None:
    assert _token_expiry([], ChaosConfig()) == []
    assert _token_expiry([tokens(0)], ChaosConfig()) == []
