"""The rule set file's schema (pydantic): what a YAML rule set must hold, before any condition
is compiled. Strict: an unknown key is an error (a misspelt `verdcit:` must not be ignored)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from fintech_core.fraud.model import Verdict


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


def explain(raw: dict[str, Any], exc: ValidationError) -> str:
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
