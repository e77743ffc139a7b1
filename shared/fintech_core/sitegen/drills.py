"""The drills catalogue, generated from the drills the composed phases declare.

The drills are read, not copied: a drill a phase adds appears here at the next build, and a test
compares this page with the composition's drills.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fintech_core.drills.drill import Drill
from fintech_core.sitegen.markdown import table


@dataclass(frozen=True)
class DrillEntry:
    name: str
    title: str
    description: str


def drill_entries(drills: Sequence[Drill]) -> list[DrillEntry] | None:
    """The composition's drills in order, or None when it declares none yet."""
    if not drills:
        return None
    return [DrillEntry(d.name, d.title, " ".join(d.description.split())) for d in drills]


def drills_page(entries: list[DrillEntry] | None, samples: Iterable[str] = ()) -> str:
    """The catalogue; a drill named in `samples` links to its recorded run (drill_samples)."""
    head = ("# Drills\n\nA drill replays one failure (a lost response, a retry, a race, a crash "
            "halfway) against the real stack and shows what is on disk before and after.\n")
    if entries is None:
        return head + (
            "\n!!! note \"Coming with issue 5\"\n"
            "    The drills arrive with issue 5 (`fintech_core.drills` and `./fcl drill`). "
            "This page is generated from their registry, so it will list them as soon as "
            "they are merged; until then there is nothing to list.\n")
    recorded = set(samples)
    return head + (f"\nThere are {len(entries)} drills; run one with "
                   "`./fcl drill run <name>`. Each links to a recorded run: its timeline, "
                   "side by side with the naive baseline.\n\n") + table(
        ["Drill", "Title", "What it shows", "Recorded run"],
        [[f"`{e.name}`", e.title, e.description,
          f"[timeline](drills/{e.name}.md)" if e.name in recorded else "—"] for e in entries])
