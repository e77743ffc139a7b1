"""What every CLI command needs from above the core: the registry of built phases.

The entry point that knows the registry (phases/entrypoints.py, or a test) hands it to
`build_cli`, which installs it here once per process; commands then ask for the composition of
the phase they run. The core itself never imports the registry.
"""

from __future__ import annotations

import os

from fintech_core.phase import Composition, Registry
from fintech_core.settings import Settings

_registry: Registry | None = None


def install(registry: Registry) -> None:
    global _registry
    _registry = registry


def registry() -> Registry:
    if _registry is None:
        raise RuntimeError("no phase registry installed: run the CLI through its entry point")
    return _registry


def settings_for(phase: int | None) -> Settings:
    """Settings for `--phase N`, else FINCORE_PHASE if set, else the latest built phase."""
    settings = Settings()
    if phase is None:
        phase = settings.phase if "FINCORE_PHASE" in os.environ else registry().latest()
    return settings.model_copy(update={"phase": phase})


def composition(settings: Settings) -> Composition:
    return registry().composition(settings.phase)


def latest() -> Composition:
    return registry().composition(registry().latest())
