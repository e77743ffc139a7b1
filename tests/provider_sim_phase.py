"""A throwaway phase that runs the provider simulator as a worker, the way phase 3 declares it
(WorkerSpec with an HTTP health check, the `fcl provider` group), without creating phase 3.

Runnable with `python -m tests.provider_sim_phase` so its worker starts as a real child process
through this registry's own CLI entry point.
"""

from __future__ import annotations

from pathlib import Path

from fintech_core.cli.main import run
from fintech_core.phase import CliEntry, Entrypoints, Phase, Registry, WorkerSpec
from fintech_core.provider_sim.cli import app as provider_cli
from phases import REGISTRY

PROVIDER_WORKER = WorkerSpec("provider", ("provider", "serve"), port_setting="provider_port",
                             host_setting="provider_host", health_path="/health")

# Once a registered phase declares the simulator (phase 3 does), the throwaway phase adds nothing
# of its own: two phases may not declare the same worker or command.
_DECLARED = any(w.name == "provider" for p in REGISTRY.phases for w in p.workers)

PROVIDER_PHASE = Phase(
    number=REGISTRY.latest() + 1,
    slug="provider-sim-test",
    title="Test: the provider simulator as a worker",
    folder=Path(__file__).resolve().parent / "provider-sim-phase-folder",  # no migrations
    workers=() if _DECLARED else (PROVIDER_WORKER,),
    cli=() if _DECLARED else (CliEntry("provider", provider_cli),),
)

PROVIDER_REGISTRY = Registry(
    (*REGISTRY.phases, PROVIDER_PHASE),
    Entrypoints(cli_module="tests.provider_sim_phase", app_factory="unused:create_app"),
)

if __name__ == "__main__":
    run(PROVIDER_REGISTRY)
