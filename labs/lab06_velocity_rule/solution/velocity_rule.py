"""Lab 6: write the velocity rule that catches an account takeover, and prove it on a backtest.

A stolen login is worth what it can send before anyone notices. The pattern is a **burst**: an
account that pays a few known people now and then suddenly sends several transfers within
minutes, each to someone it never paid before. The live rule set (`fraud/rulesets/v1.yaml`)
has a velocity rule; this lab removes it, and you write yours. It is judged the way a fraud
team judges a rule before it goes live: replayed with the rest of v1 over a labelled history
(`fraud/synth.py`, fixed seeds; `fraud/backtest.py`) for what it catches (recall), how often it
is right (precision), and how many honest customers it puts in the review queue.

You write one rule, as the YAML of one item of a rule set's `rules:` list: the same shape as
the rules in `shared/fintech_core/fraud/rulesets/v1.yaml`. Its condition (`when`) is read by
`rule-engine` over the fields of `Features` (`shared/fintech_core/fraud/model.py`), which the
feature store computes from what came *before* the attempt.
"""

from __future__ import annotations

import dataclasses
import sys

import yaml

from fintech_core.fraud import backtest, synth
from fintech_core.fraud.rules import RuleSet, load_ruleset


def velocity_rule() -> str:
    """Your one rule, as YAML: id, version, description, when, verdict, score, reason."""
    # --- solution begin
    # hint: copy the shape of v1's velocity-10m rule, then choose `when`. Start with the
    # hint: obvious one, "caller_kind != 'service' and src_out_count_10m >= 3", run
    # hint: `python velocity_rule.py` and read who it holds; then ask what a takeover's
    # hint: second transfer has that an honest customer's busy afternoon has not.
    return """
id: takeover-burst
version: 1
description: a second transfer within ten minutes, again to someone the account never paid,
  from an account with a history (its usual payees are known, so a burst of new ones stands out)
when: "caller_kind != 'service' and src_out_count_10m >= 1 and src_new_beneficiaries_1h >= 1
  and new_beneficiary and src_history_count >= 3"
verdict: review
score: 60
reason: TAKEOVER_BURST
"""
    # --- solution end


def candidate_ruleset(rule_yaml: str) -> RuleSet:
    """GIVEN: v1 without its velocity rule, plus yours, validated and compiled like any rule set
    (RuleSetInvalid says what is wrong and names the rule)."""
    base = load_ruleset("v1")
    mine = RuleSet.from_yaml(yaml.safe_dump({
        "ruleset": "lab6", "review_score": base.review_score, "block_score": base.block_score,
        "rules": [yaml.safe_load(rule_yaml)]}))
    kept = tuple(r for r in base.rules if not r.spec.id.startswith("velocity"))
    return dataclasses.replace(base, name="v1-lab6", rules=(*kept, *mine.rules))


SHOWN = ("amount", "src_out_count_10m", "src_new_beneficiaries_1h", "new_beneficiary",
         "src_history_count", "src_avg_amount")


def main(seed: int) -> None:
    """GIVEN: `python velocity_rule.py [seed]` prints your rule's backtest (the tests judge)."""
    rule_yaml = velocity_rule()
    result = backtest.run(synth.generate(seed), candidate_ruleset(rule_yaml))
    rule_id = yaml.safe_load(rule_yaml)["id"]
    mine = next(t for t in result.rules if t.name == rule_id)
    takeover = next(t for t in result.patterns if t.name == "ato-burst")
    honest = [r for r in result.rows if not r.item.is_fraud]
    print(f"seed {seed}: takeover attempts flagged by the set {takeover.recall:.0%}; "
          f"your rule fired {mine.fired} times, precision {mine.precision:.0%}, "
          f"honest transfers held {mine.false_pos / len(honest):.2%}")
    for row in [r for r in honest if rule_id in {h.rule_id for h in r.decision.hits}][:5]:
        print("  an honest one it held:", {k: getattr(row.features, k) for k in SHOWN})


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
