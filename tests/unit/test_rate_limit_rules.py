"""Which requests fail closed when Redis is down, and how a bucket's owner becomes a key."""

from __future__ import annotations

import pytest

from fintech_core.limits.headers import RequestKind
from fintech_core.limits.middleware import RatePolicies, bucket_key, request_kind
from fintech_core.settings import Settings


@pytest.mark.parametrize(("method", "path", "kind"), [
    ("POST", "/transfers", RequestKind.MONEY_MOVE),
    ("post", "/payouts", RequestKind.MONEY_MOVE),
    ("PUT", "/accounts/1/limits", RequestKind.MONEY_MOVE),
    ("PATCH", "/accounts/1", RequestKind.MONEY_MOVE),
    ("DELETE", "/accounts/1", RequestKind.MONEY_MOVE),
    ("POST", "/webhooks/stripeish", RequestKind.MONEY_MOVE),
    ("POST", "/auth/token", RequestKind.READ),  # its own throttle; tokens must stay renewable
    ("GET", "/accounts/1", RequestKind.READ),
    ("HEAD", "/accounts/1", RequestKind.READ),
    ("OPTIONS", "/transfers", RequestKind.READ),
])
def test_unsafe_methods_fail_closed_except_the_token_endpoint(method: str, path: str,
                                                              kind: RequestKind) -> None:
    assert request_kind(method, path) is kind


def test_plain_subjects_are_kept_and_others_hashed_to_a_bounded_key() -> None:
    assert bucket_key("alice") == "alice"
    assert bucket_key("http://127.0.0.1:9400|carol@example.test") == (
        "http://127.0.0.1:9400|carol@example.test")
    odd = bucket_key("a b\nc")
    long = bucket_key("x" * 500)
    assert odd.startswith("h:") and len(odd) == 34 and long.startswith("h:") and len(long) == 34
    assert bucket_key("a b\nc") == odd and bucket_key("a b\nd") != odd


def test_the_default_policies_are_far_above_a_person_and_the_bench() -> None:
    p = RatePolicies.from_settings(Settings())
    assert (p.user.rate, p.user.burst) == (20, 40)
    assert (p.service.rate, p.service.burst) == (1000, 2000)
    assert (p.ip.rate, p.ip.burst) == (200, 400)
    assert {p.user.name, p.service.name, p.ip.name} == {"per-user", "per-service", "per-ip"}
