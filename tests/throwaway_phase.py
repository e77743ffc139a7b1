"""A throwaway phase, defined outside the core and outside `phases/`, to prove that a phase is a
self-contained slice: everything it declares gets wired without editing any core file.

It is importable (and runnable with `python -m tests.throwaway_phase`) so that the worker it
declares can be started as a real child process through its own registry's entry points.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import typer
from fastapi import APIRouter

from fintech_core.api.problems import ProblemType
from fintech_core.chaos.hooks import HookResult
from fintech_core.cli.main import run
from fintech_core.domain.errors import DomainError
from fintech_core.drills.drill import Drill
from fintech_core.phase import CliEntry, Entrypoints, Phase, Registry, SitePage, WorkerSpec
from phases import REGISTRY


class Beeped(DomainError):
    code = "beep-refused"


def beep_router() -> APIRouter:
    r = APIRouter()

    @r.get("/beep")
    async def beep() -> None:
        raise Beeped("this phase refuses every beep")

    return r


def beep(times: int = 1) -> None:
    """Say beep (the throwaway phase's CLI command)."""
    print(" ".join(["beep"] * times))


BEEPS = typer.Typer(help="A command group of the throwaway phase.", no_args_is_help=True)


@BEEPS.command("count")
def count_beeps() -> None:
    print("0 beeps")


def beep_worker() -> None:
    """A long-running process: leaves a mark in the lab directory, then waits to be stopped."""
    mark = Path(os.environ["FINCORE_LAB_DIR"]) / "beeper.mark"
    mark.write_text(str(os.getpid()))
    while True:
        time.sleep(0.2)


def beep_hook(env: object) -> HookResult:
    return HookResult("beep-hook", "ok", "no beep was lost")


class BeepFault:
    """A chaos fault the throwaway phase declares: `--faults beep-fault` must find it."""

    name = "beep-fault"

    def available(self, env: object) -> str | None:
        return None

    def inject(self, env: object, rng: object) -> str:
        return "beeped at the stack"


BEEP_FAULT = BeepFault()


def _play(ctx: object) -> None:
    pass


BEEP_DRILL = Drill("beep-drill", "A beep", "Did it beep?", "no fault", "the client listens",
                   "one beep", "beeps are idempotent", play=_play, check=lambda c, f: [])

THROWAWAY = Phase(
    number=REGISTRY.latest() + 1,
    slug="throwaway",
    title="Throwaway: a phase defined in a test",
    folder=Path(__file__).resolve().parent / "throwaway-phase-folder",  # no migrations
    routers=(beep_router,),
    workers=(WorkerSpec("beeper", ("beep-worker",)),),
    cli=(CliEntry("beep", beep), CliEntry("beep-worker", beep_worker),
         CliEntry("beeps", BEEPS)),
    problems={"beep-refused": ProblemType(418, "Beep refused", "This phase refuses every beep.")},
    drills=(BEEP_DRILL,),
    chaos_hooks=(beep_hook,),
    chaos_faults=(BEEP_FAULT,),
    site_pages=(SitePage("Beeps", Path(__file__)),),
)

THROWAWAY_REGISTRY = Registry(
    (*REGISTRY.phases, THROWAWAY),
    Entrypoints(cli_module="tests.throwaway_phase", app_factory="unused:create_app"),
)

if __name__ == "__main__":
    run(THROWAWAY_REGISTRY)
