"""The drills catalogue, generated from the drill registry in `fintech_core.drills`.

The registry is imported, not copied: a drill added to it appears here at the next build, and
a test compares this page with the registry. Until the drills package exists, the page says so.
A registry in a shape this module does not understand is an error, never an empty page.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fintech_core.sitegen.markdown import table

DRILLS_MODULE = "fintech_core.drills"
REGISTRY_NAMES = ("REGISTRY", "DRILLS")


@dataclass(frozen=True)
class DrillEntry:
    name: str
    title: str
    description: str


def _field(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)


def drill_entries() -> list[DrillEntry] | None:
    """The registry's drills in order, or None when the drills package does not exist yet."""
    try:
        module = importlib.import_module(DRILLS_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name == DRILLS_MODULE:
            return None
        raise
    registry = next((getattr(module, n) for n in REGISTRY_NAMES if hasattr(module, n)), None)
    if registry is None:
        raise RuntimeError(f"{DRILLS_MODULE} defines none of {REGISTRY_NAMES}; the drills "
                           "page lists that registry")
    items: Iterable[tuple[Any, Any]] = (
        registry.items() if isinstance(registry, Mapping) else ((None, d) for d in registry))
    entries = []
    for key, drill in items:
        name = _field(drill, "name") or key
        if not name:
            raise RuntimeError(f"a drill in {DRILLS_MODULE} has no name: {drill!r}")
        doc = (getattr(drill, "__doc__", None) or "").strip().split("\n\n")[0]
        entries.append(DrillEntry(str(name), str(_field(drill, "title") or name),
                                  " ".join(str(_field(drill, "description") or doc).split())))
    return entries


def drills_page(entries: list[DrillEntry] | None, samples: Iterable[str] = ()) -> str:
    """The catalogue; a drill named in `samples` links to its recorded run (drill_samples)."""
    head = ("# Drills\n\nA drill replays one failure (a lost response, a retry, a race, a crash "
            "halfway) against the real stack and shows what is on disk before and after.\n")
    if entries is None:
        return head + (
            "\n!!! note \"Coming with issue 5\"\n"
            "    The drills arrive with issue 5 (`fintech_core.drills` and `fincore drill`). "
            "This page is generated from their registry, so it will list them as soon as "
            "they are merged; until then there is nothing to list.\n")
    recorded = set(samples)
    return head + (f"\nThere are {len(entries)} drills; run one with "
                   "`fincore drill run <name>`. Each links to a recorded run: its timeline, "
                   "side by side with the naive baseline.\n\n") + table(
        ["Drill", "Title", "What it shows", "Recorded run"],
        [[f"`{e.name}`", e.title, e.description,
          f"[timeline](drills/{e.name}.md)" if e.name in recorded else "—"] for e in entries])
