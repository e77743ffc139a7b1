"""Rule sets as data: loading, validation naming the rule, how verdicts combine, and one crafted
Features per v1 reason code (plus the ordinary flows that must not trip v1)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from fintech_core.fraud.features import MemoryFeatureStore
from fintech_core.fraud.model import Attempt, Features, Verdict
from fintech_core.fraud.rules import RuleSet, RuleSetInvalid, load_ruleset

pytestmark = pytest.mark.anyio


def ruleset(*rules: str, review: int = 60, block: int = 120) -> str:
    return f"ruleset: t\nreview_score: {review}\nblock_score: {block}\nrules:\n" + "".join(rules)


def rule(rid: str, when: str, verdict: str = "review", score: int = 10) -> str:
    return (f"  - id: {rid}\n    version: 1\n    description: d\n    when: \"{when}\"\n"
            f"    verdict: {verdict}\n    score: {score}\n    reason: {rid.upper().replace('-', '_')}\n")


def test_the_shipped_sets_load_and_differ_in_one_rule() -> None:
    v1, v2 = load_ruleset("v1"), load_ruleset("v2")
    assert (v1.name, v2.name) == ("v1", "v2")
    assert 6 <= len(v1.rules) <= 8
    assert all("caller_kind != 'service'" in r.spec.when for r in v1.rules)
    changed = [a.spec.id for a, b in zip(v1.rules, v2.rules, strict=True) if a.spec != b.spec]
    assert changed == ["amount-far-above-usual"]


@pytest.mark.parametrize(("text", "needle"), [
    (ruleset(rule("ok", "amount > 1"), rule("typo", "amout > 1")), "'typo'"),
    (ruleset(rule("syntax", "amount >> > 1")), "'syntax'"),
    (ruleset(rule("types", "kind > 3")), "'types'"),
    (ruleset(rule("ok", "amount > 1"), rule("deny", "amount > 1", verdict="deny")), "'deny'"),
    (ruleset(rule("neg", "amount > 1", score=-5)), "'neg'"),
    (ruleset(rule("dup", "amount > 1"), rule("dup", "amount > 2")), "duplicate"),
    (ruleset(rule("a", "amount > 1"), review=100, block=50), "block_score"),
    ("ruleset: [unclosed", "YAML"),
    ("- just a list", "mapping"),
])
def test_an_invalid_set_is_refused_naming_the_rule(text: str, needle: str) -> None:
    with pytest.raises(RuleSetInvalid, match=needle):
        RuleSet.from_yaml(text)


def test_an_unknown_set_is_refused() -> None:
    with pytest.raises(RuleSetInvalid, match="no rule set"):
        load_ruleset("nope")
    with pytest.raises(RuleSetInvalid, match="bad rule set name"):
        load_ruleset("../v1")


def test_a_single_block_wins_over_reviews_and_a_low_score() -> None:
    rs = RuleSet.from_yaml(ruleset(rule("r", "amount > 1", "review", 50),
                                   rule("b", "amount > 100", "block", 0)))
    d = rs.evaluate(Features(amount=500, kind="TRANSFER"))
    assert (d.verdict, d.score, d.reason_codes) == (Verdict.BLOCK, 50, ["R", "B"])
    assert rs.evaluate(Features(amount=50, kind="TRANSFER")).verdict is Verdict.REVIEW
    assert rs.evaluate(Features(amount=1, kind="TRANSFER")).verdict is Verdict.ALLOW


def test_the_score_only_raises_the_verdict() -> None:
    rs = RuleSet.from_yaml(ruleset(rule("a", "amount > 1", "allow", 40),
                                   rule("b", "amount > 10", "allow", 40),
                                   rule("c", "amount > 100", "allow", 40),
                                   rule("weak", "kind == 'WITHDRAWAL'", "review", 0)))
    assert rs.evaluate(Features(amount=5, kind="TRANSFER")).verdict is Verdict.ALLOW
    assert rs.evaluate(Features(amount=50, kind="TRANSFER")).verdict is Verdict.REVIEW
    assert rs.evaluate(Features(amount=500, kind="TRANSFER")).verdict is Verdict.BLOCK
    # A review with a low total stays a review: a score never lowers a verdict.
    assert rs.evaluate(Features(amount=1, kind="WITHDRAWAL")).verdict is Verdict.REVIEW


T = "TRANSFER"
CRAFTED = {
    "VELOCITY_10M": Features(amount=100, kind=T, src_out_count_10m=10),
    "AMOUNT_FAR_ABOVE_USUAL": Features(amount=5000, kind=T, src_history_count=5,
                                       src_avg_amount=1000.0),
    "BIG_FIRST_TO_NEW_BENEFICIARY": Features(amount=3000, kind=T, new_beneficiary=True,
                                             src_history_count=3, src_avg_amount=1000.0),
    "NEW_BENEFICIARY_BURST": Features(amount=100, kind=T, new_beneficiary=True,
                                      src_new_beneficiaries_1h=2),
    "MULE_IN_THEN_OUT": Features(amount=45_000, kind=T, new_beneficiary=True,
                                 src_in_sum_1h=60_000, src_out_sum_1h=5_000),
    "MANY_SMALL_PAYOUTS": Features(amount=100, kind="WITHDRAWAL", src_withdrawal_count_1h=3),
    "DEVICE_MANY_SOURCES": Features(amount=100, kind=T, device_sources_1h=3),
    "IP_VELOCITY_10M": Features(amount=100, kind=T, ip_out_count_10m=30),
}


@pytest.mark.parametrize("reason", sorted(CRAFTED))
def test_each_v1_reason_fires_on_its_pattern_and_never_for_a_service(reason: str) -> None:
    v1 = load_ruleset("v1")
    assert {r.spec.reason for r in v1.rules} == set(CRAFTED)
    features = CRAFTED[reason]
    assert v1.evaluate(features).reason_codes == [reason]
    expected = {"MULE_IN_THEN_OUT": Verdict.BLOCK, "IP_VELOCITY_10M": Verdict.ALLOW}
    assert v1.evaluate(features).verdict is expected.get(reason, Verdict.REVIEW)
    service = Features(**{**features.as_facts(), "caller_kind": "service"})
    assert v1.evaluate(service).hits == ()


def attempt(src: uuid.UUID | None, dst: uuid.UUID | None, amount: int, at: datetime) -> Attempt:
    kind = "DEPOSIT" if src is None else "WITHDRAWAL" if dst is None else "TRANSFER"
    return Attempt(uuid.uuid4(), kind, src, dst, amount, "EUR", at, "alice", "127.0.0.1", "phone")


async def test_ordinary_flows_do_not_trip_v1() -> None:
    """The phases' flows: deposit then a modest transfer to a new account; a few transfers a
    minute between the same accounts, from one IP and one device; a withdrawal."""
    v1, store = load_ruleset("v1"), MemoryFeatureStore()
    alice, bob, carol = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    t = datetime(2026, 3, 2, 9, tzinfo=UTC)
    flow = [attempt(None, alice, 100_000, t), attempt(alice, bob, 25_000, t)]
    flow += [attempt(alice, bob if i % 2 else carol, 1_000 + i, t + timedelta(seconds=15 * i))
             for i in range(7)]
    flow += [attempt(bob, alice, 500, t), attempt(alice, None, 2_000, t)]
    for a in flow:
        decision = v1.evaluate(await store.observe(a))
        assert decision.verdict is Verdict.ALLOW, (a, decision)
        await store.learn(a)


def test_the_mule_rule_sees_a_cash_out_in_legs_but_not_a_customer_paying_rent() -> None:
    v1 = load_ruleset("v1")
    second_leg = Features(amount=27_000, kind=T, new_beneficiary=False, src_history_count=1,
                          src_in_sum_1h=60_000, src_out_sum_1h=27_000)
    assert v1.evaluate(second_leg).verdict is Verdict.BLOCK
    rent = Features(amount=55_000, kind=T, new_beneficiary=False, src_history_count=40,
                    src_avg_amount=20_000.0, src_in_sum_1h=300_000)
    assert v1.evaluate(rent).verdict is Verdict.ALLOW
    payday = Features(amount=280_000, kind=T, new_beneficiary=False, src_history_count=40,
                      src_avg_amount=60_000.0, src_in_sum_1h=300_000)
    assert v1.evaluate(payday).hits == ()  # a known payee: all of it may leave
