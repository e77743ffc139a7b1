"""What a drill reports: per side (naive baseline, phase) the timeline, what the client saw,
what the ledger says, the invariants checked, and a verdict; then the drill as a whole.

Verdict rules. The phase side *must* hold: a broken invariant there is a bug, and `ok` turns
false (the CLI exits non-zero). The naive side is *expected* to break: that is reported, never a
failure; if it held, the report says the baseline got lucky rather than calling it fixed.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from fintech_core.drills.timeline import Event

Against = Literal["naive", "phase", "both"]


@dataclass(frozen=True)
class Check:
    name: str  # the invariant, e.g. "money moved exactly once"
    held: bool
    detail: str  # the numbers behind it, from the database
    binding: bool = True  # False: an observation shown for the lesson, not an invariant


@dataclass
class SideReport:
    side: Literal["naive", "phase"]
    label: str  # "naive baseline" or "phase 0"
    must_hold: bool
    accounts: dict[str, str] = field(default_factory=dict)  # label -> id, to look them up
    events: list[Event] = field(default_factory=list)
    client_saw: list[str] = field(default_factory=list)
    ledger: dict[str, Any] = field(default_factory=dict)
    ledger_text: str = ""
    checks: list[Check] = field(default_factory=list)
    headline: dict[str, Any] = field(default_factory=dict)  # a few numbers, e.g. {"debits": 2}
    skipped: str | None = None

    @property
    def held(self) -> bool:
        return all(c.held for c in self.checks if c.binding)

    @property
    def outcome(self) -> Literal["held", "broken", "skipped"]:
        if self.skipped:
            return "skipped"
        return "held" if self.held else "broken"

    @property
    def verdict(self) -> str:
        if self.skipped:
            return f"skipped: {self.skipped}"
        broken = "; ".join("✗ " + c.name for c in self.checks if c.binding and not c.held)
        if self.must_hold:
            return "held" if not broken else f"BROKEN, a bug: {broken}"
        if broken:
            return f"broken, as expected of the baseline: {broken}"
        return "held this time (the baseline got lucky; it is not fixed)"


@dataclass
class DrillReport:
    name: str
    title: str
    question: str
    fault: str
    client: str
    invariant: str
    lesson: str
    phase: int
    sides: list[SideReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """False only when a side that must hold broke; a broken baseline is the lesson."""
        return not any(s.must_hold and s.outcome == "broken" for s in self.sides)

    def side(self, which: Literal["naive", "phase"]) -> SideReport:
        for s in self.sides:
            if s.side == which:
                return s
        raise KeyError(f"this run has no {which} side; run it with against='both'")

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["ok"] = self.ok
        for side, raw in zip(self.sides, out["sides"], strict=True):
            raw.update(outcome=side.outcome, verdict=side.verdict)
        return out

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, default=str)
