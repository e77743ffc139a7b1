"""The "what this phase adds" table of a phase's article, generated from its `Phase` object.

A phase README explains its slice in prose; the table beside the prose is what the `Phase`
object really declares, so the two cannot disagree: `phase_table` renders it, `with_table`
writes it between the README's markers, and a unit test fails when a README's table differs
from what its object generates (`make phase-tables` rewrites them). One row per kind of
contribution the phase declares, in a fixed order; kinds it leaves empty have no row.

Pure: reads the phase object, its migrations folder and nothing else. It never imports the
`phases` package; the caller passes the phases before this one (`earlier`), which is how the
table can say which route or extension a phase replaces and which pipeline it results in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from fintech_core.phase import Phase
from fintech_core.sitegen import phase_items as items
from fintech_core.sitegen.markdown import table

BEGIN = "<!-- phase-table:begin -->"
END = "<!-- phase-table:end -->"
BREAK = "<br>"  # one item per line inside a cell, on GitHub and on the site alike

Renderer = Callable[[Phase, Sequence[Phase]], list[str]]
# (row title, how its items are joined, renderer), in the order the rows appear.
ROWS: tuple[tuple[str, str, Renderer], ...] = (
    ("Migrations", BREAK, items.migrations),
    ("Routes", BREAK, items.routes),
    ("Transfer pipeline", BREAK, items.pipeline),
    ("Unit-of-work extensions", BREAK, items.extensions),
    ("SQLModel tables", BREAK, items.tables),
    ("Background tasks", ", ", items.background_tasks),
    ("Workers", BREAK, items.workers),
    ("CLI commands", BREAK, items.cli),
    ("Problem types", ", ", items.problems),
    ("Drills", ", ", items.drills),
    ("Chaos hooks", ", ", items.chaos_hooks),
    ("Chaos faults", ", ", items.chaos_faults),
    ("Bench parts", ", ", items.bench_parts),
    ("Site pages", BREAK, items.site_pages),
    ("Labs", BREAK, items.labs),
)


class MissingMarkers(ValueError):
    pass


def phase_table(phase: Phase, earlier: Sequence[Phase] = ()) -> str:
    """The Markdown table of what `phase` adds. `earlier`: the phases before it, in order."""
    rows: list[list[object]] = []
    for kind, sep, render in ROWS:
        cell = render(phase, earlier)
        if cell:
            rows.append([kind, sep.join(cell)])
    return table(["Kind", f"What phase {phase.number} adds"], rows)


_BLOCK = re.compile(re.escape(BEGIN) + r"\n.*?" + re.escape(END), re.DOTALL)


def with_table(readme: str, generated: str) -> str:
    """`readme` with the text between its markers replaced by `generated`."""
    if len(_BLOCK.findall(readme)) != 1:
        raise MissingMarkers(f"a phase README needs exactly one {BEGIN} ... {END} block")
    return _BLOCK.sub(lambda _: f"{BEGIN}\n{generated}{END}", readme)
