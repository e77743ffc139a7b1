"""The payments state machine: forward only, the same table in Python and in the trigger, and
the key we send the provider derived from our id (never per attempt)."""

from __future__ import annotations

import re
from pathlib import Path

from fintech_core.payments.domain import (
    FINAL,
    TRANSITIONS,
    ProviderStatus,
    State,
    can_move,
    provider_key,
    target_of,
)

SQL = (Path(__file__).resolve().parents[2] / "phases" / "phase03_payments" / "migrations"
       / "p3_0001_payments.sql")


def test_the_trigger_allows_exactly_the_python_transitions() -> None:
    body = SQL.read_text().split("CREATE FUNCTION payments_allowed", 1)[1].split("$$;", 1)[0]
    in_sql = {State(frm): frozenset(State(t) for t in re.findall(r"'([A-Z_]+)'", targets))
              for frm, targets in re.findall(r"WHEN '([A-Z_]+)' THEN to_state IN \(([^)]*)\)",
                                             body)}
    assert in_sql == TRANSITIONS


def test_nothing_moves_backwards_or_out_of_a_final_state() -> None:
    for state in FINAL:
        assert not any(can_move(state, target) for target in State)
    assert not any(can_move(s, State.PENDING) for s in State)
    assert not can_move(State.SETTLED, State.FAILED)
    assert not can_move(State.REFUNDED, State.SETTLED)  # a late "succeeded" after the refund
    assert not can_move(State.SETTLED, State.UNKNOWN)  # a timeout recorded after the webhook


def test_only_a_verified_fact_settles_a_pay_in() -> None:
    assert target_of(ProviderStatus.SUCCEEDED, verified=False) is State.CAPTURED
    assert target_of(ProviderStatus.SUCCEEDED, verified=True) is State.SETTLED
    assert target_of(ProviderStatus.FAILED, verified=False) is State.FAILED
    assert target_of(ProviderStatus.PROCESSING, verified=True) is State.AUTHORIZED


def test_the_provider_key_is_derived_from_our_id() -> None:
    assert provider_key("payment", "p1") == provider_key("payment", "p1") == "fcl-payment-p1"
    assert provider_key("payout", "p1") != provider_key("payment", "p1")
