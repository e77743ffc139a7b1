"""The processes' entry points: the only code that knows both the core and the registry.

    fcl ...                       -> main()        (console script; `python -m` for workers)
    uvicorn --factory phases.entrypoints:create_app   (the API process, any phase)
"""

from __future__ import annotations

from fastapi import FastAPI

from fintech_core.api.app import build_app
from fintech_core.bootstrap import bootstrap
from fintech_core.cli.main import run
from fintech_core.settings import Settings
from phases import REGISTRY


def create_app(settings: Settings | None = None) -> FastAPI:
    """Uvicorn factory: the app for FINCORE_PHASE, composed from the registry."""
    settings = settings or Settings()
    return build_app(bootstrap(settings, REGISTRY.composition(settings.phase)))


def main() -> None:
    run(REGISTRY)


if __name__ == "__main__":
    main()
