"""Rule sets as data: a YAML file validated by a schema, conditions compiled once by `rule-engine`.

Why data, not code: a rule set is versioned, reviewed, diffed, backtested and run in shadow mode
before it goes live; none of that works if a rule is a Python `if` in a handler.

What is guaranteed:
- A rule set that loads is sound: every condition parsed and type-checked against the
  `Features` fields at load time (an unknown name, a syntax error, comparing a string to a
  number), so a typo fails the deploy, not a customer's transfer. The error names the rule id.
- Combining (`evaluate`): a fired `block` rule blocks; else a fired `review` rule reviews; then
  the total score may only *raise* the verdict (>= review_score: at least review, >= block_score:
  block). A hard hit is never averaged away by rules that did not fire.
- Evaluation (`Rule.matches`) runs each condition as closures translated once from the checked
  AST (fraud/compiled.py): the same answers as `rule-engine`'s own `matches`, which walks its AST
  and converts every number to a Decimal per call and was most of the check's CPU (measured);
  a rule the translator does not cover keeps the library's evaluation.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import rule_engine
import yaml
from pydantic import ValidationError

from fintech_core.fraud.compiled import compile_condition
from fintech_core.fraud.model import Decision, Features, RuleHit, Verdict
from fintech_core.fraud.rules_schema import RuleSetSpec, RuleSpec, explain

RULESETS = Path(__file__).with_name("rulesets")


class RuleSetInvalid(ValueError):
    """The rule set cannot be loaded; the message names the rule (or the file) at fault."""


_TYPES = {int: rule_engine.DataType.FLOAT, float: rule_engine.DataType.FLOAT,
          bool: rule_engine.DataType.BOOLEAN, str: rule_engine.DataType.STRING}


@cache
def features_context() -> rule_engine.Context:
    """The names a condition may use: exactly the `Features` fields, typed, read as attributes
    of the Features object (no dict copy per evaluation)."""
    hints = typing.get_type_hints(Features)
    types = {f.name: _TYPES[hints[f.name]] for f in dataclasses.fields(Features)}
    return rule_engine.Context(type_resolver=rule_engine.type_resolver_from_dict(types),
                               resolver=rule_engine.resolve_attribute)


@cache
def evaluation_context() -> rule_engine.Context:
    """The same names without the per-value type check: every condition was already type-checked
    against `features_context` at load, and a Features value always has its declared type;
    re-checking each value on every evaluation doubled the cost per attempt (measured)."""
    return rule_engine.Context(resolver=rule_engine.resolve_attribute)


@dataclass(frozen=True)
class Rule:
    spec: RuleSpec
    condition: rule_engine.Rule  # the library's rule: the reference answer
    compiled: Callable[[Any], bool] | None = None  # its translation; None: the library evaluates

    def matches(self, features: Features) -> bool:
        return (self.compiled or self.condition.matches)(features)

    def hit(self) -> RuleHit:
        s = self.spec
        return RuleHit(s.id, s.version, s.verdict, s.score, s.reason)


@dataclass(frozen=True)
class RuleSet:
    name: str
    description: str
    review_score: int
    block_score: int
    rules: tuple[Rule, ...]

    @classmethod
    def from_yaml(cls, text: str) -> RuleSet:
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise RuleSetInvalid(f"rule set is not valid YAML: {exc}") from exc
        if not isinstance(raw, dict):
            raise RuleSetInvalid("rule set must be a YAML mapping")
        try:
            spec = RuleSetSpec.model_validate(raw)
        except ValidationError as exc:
            raise RuleSetInvalid(explain(raw, exc)) from exc
        rules = []
        for r in spec.rules:
            try:
                checked = rule_engine.Rule(r.when, context=features_context())  # or raises
                condition = rule_engine.Rule(r.when, context=evaluation_context())
                rules.append(Rule(r, condition, compile_condition(checked, condition)))
            except rule_engine.errors.EngineError as exc:
                raise RuleSetInvalid(f"rule {r.id!r}: bad condition {r.when!r}: "
                                     f"{type(exc).__name__}: {exc.message}") from exc
        return cls(spec.ruleset, spec.description, spec.review_score, spec.block_score,
                   tuple(rules))

    def evaluate(self, features: Features) -> Decision:
        hits = tuple(r.hit() for r in self.rules if r.matches(features))
        score = sum(h.score for h in hits)
        verdict = max((h.verdict for h in hits), key=lambda v: v.severity, default=Verdict.ALLOW)
        if score >= self.block_score:
            verdict = Verdict.BLOCK
        elif score >= self.review_score and verdict is Verdict.ALLOW:
            verdict = Verdict.REVIEW
        return Decision(self.name, verdict, score, hits)


@cache
def load_ruleset(name: str) -> RuleSet:
    """rulesets/<name>.yaml, parsed and compiled once per process (a RuleSet is immutable)."""
    if not name.replace("-", "").replace("_", "").isalnum():
        raise RuleSetInvalid(f"bad rule set name {name!r}")
    path = RULESETS / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in RULESETS.glob("*.yaml")))
        raise RuleSetInvalid(f"no rule set {name!r} (known: {known})")
    return RuleSet.from_yaml(path.read_text())
