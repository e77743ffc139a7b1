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
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import rule_engine
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from fintech_core.fraud.model import Decision, Features, RuleHit, Verdict

RULESETS = Path(__file__).with_name("rulesets")


class RuleSetInvalid(ValueError):
    """The rule set cannot be loaded; the message names the rule (or the file) at fault."""


class RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    version: int = Field(ge=1)
    description: str = Field(min_length=1)
    when: str = Field(min_length=1)
    verdict: Verdict
    score: int = Field(ge=0)
    reason: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")


class RuleSetSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    ruleset: str = Field(min_length=1)
    description: str = ""
    review_score: int = Field(ge=1)
    block_score: int = Field(ge=1)
    rules: list[RuleSpec]

    @model_validator(mode="after")
    def _coherent(self) -> RuleSetSpec:
        if self.block_score < self.review_score:
            raise ValueError("block_score must be at or above review_score")
        ids = [r.id for r in self.rules]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"duplicate rule id(s): {', '.join(dup)}")
        return self


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


@dataclass(frozen=True)
class Rule:
    spec: RuleSpec
    condition: rule_engine.Rule

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
            raise RuleSetInvalid(_explain(raw, exc)) from exc
        rules = []
        for r in spec.rules:
            try:
                rules.append(Rule(r, rule_engine.Rule(r.when, context=features_context())))
            except rule_engine.errors.EngineError as exc:
                raise RuleSetInvalid(f"rule {r.id!r}: bad condition {r.when!r}: "
                                     f"{type(exc).__name__}: {exc.message}") from exc
        return cls(spec.ruleset, spec.description, spec.review_score, spec.block_score,
                   tuple(rules))

    def evaluate(self, features: Features) -> Decision:
        hits = tuple(r.hit() for r in self.rules if r.condition.matches(features))
        score = sum(h.score for h in hits)
        verdict = max((h.verdict for h in hits), key=lambda v: v.severity, default=Verdict.ALLOW)
        if score >= self.block_score:
            verdict = Verdict.BLOCK
        elif score >= self.review_score and verdict is Verdict.ALLOW:
            verdict = Verdict.REVIEW
        return Decision(self.name, verdict, score, hits)


def _explain(raw: dict[str, Any], exc: ValidationError) -> str:
    """Pydantic's first error, located by rule id rather than list index."""
    err = exc.errors()[0]
    loc = list(err["loc"])
    where = "rule set"
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        rules = raw.get("rules") or []
        item = rules[loc[1]] if loc[1] < len(rules) else None
        rid = item.get("id") if isinstance(item, dict) else None
        where = f"rule {rid!r}" if rid else f"rule #{loc[1] + 1}"
        loc = loc[2:]
    field = ".".join(str(p) for p in loc)
    return f"{where}: {field + ': ' if field else ''}{err['msg']}"


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
