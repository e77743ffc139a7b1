"""Finding drills: the drills of a composition are exactly what its phases declare
(`Phase.drills`), in phase order, so `fcl drill list` is that tuple and nothing discovers
drills by side effect. The scenarios live in drills/scenarios/; phase 0 lists its eight."""

from __future__ import annotations

from collections.abc import Sequence

from fintech_core.drills.drill import Drill


def names(drills: Sequence[Drill]) -> list[str]:
    return [d.name for d in drills]


def get(drills: Sequence[Drill], name: str) -> Drill:
    for drill in drills:
        if drill.name == name:
            return drill
    raise KeyError(f"no drill named {name!r}; one of: {', '.join(names(drills))}")
