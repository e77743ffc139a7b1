"""`fcl bench`: the benchmark against pgbench, as a CLI command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from fintech_core.settings import REPO_ROOT

console = Console(width=None if Console().is_terminal else 140)


def bench(
    profile: Annotated[str, typer.Option(help="smoke (seconds), quick (default, minutes) or full")] = "quick",
    phase: Annotated[int | None, typer.Option("--phase", "-p", help="Phase (default latest)")] = None,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes for the API")] = 2,
    out: Annotated[Path, typer.Option(help="where JSON and plots go")] = REPO_ROOT / "results",
) -> None:
    """Transfers/s and latency vs pgbench on the same PostgreSQL, with correctness checks."""
    from fintech_core.bench import report
    from fintech_core.bench.profiles import PROFILES
    from fintech_core.bench.runner import run_profile
    from fintech_core.cli.context import registry

    if profile not in PROFILES:
        raise typer.BadParameter(f"choose one of {sorted(PROFILES)}")
    chosen = registry().composition(registry().latest() if phase is None else phase)
    with console.status("benchmarking...") as status:
        def progress(msg: str) -> None:
            status.update(msg)
            console.log(msg)

        run = run_profile(PROFILES[profile], chosen, api_workers=workers, progress=progress)
    console.print(report.table(run))
    if (events := report.events_table(run)) is not None:
        console.print(events)
    if (costs := report.phase_costs_table(run)) is not None:
        console.print(costs)
    where = report.write(run, out)
    console.print(f"results: {where}/bench.json and plots; latest copy in {out / 'latest'}")
    if not run.ok():
        console.print("[red]a correctness check failed[/]")
        raise typer.Exit(1)


def bench_cpu(
    phase: Annotated[int | None, typer.Option("--phase", "-p", help="Phase (default latest)")] = None,
    clients: Annotated[int, typer.Option(help="concurrent clients")] = 4,
    seconds: Annotated[float, typer.Option(help="how long to load the API")] = 6,
    workload: Annotated[str, typer.Option(help="uniform, hot or mixed")] = "uniform",
    pipeline: Annotated[bool, typer.Option(help="psycopg pipeline mode in the API")] = False,
) -> None:
    """CPU ms per request in the API and in PostgreSQL, under a closed-loop load."""
    import json

    from fintech_core.bench.cpu import measure
    from fintech_core.cli.context import composition, settings_for

    if workload not in ("uniform", "hot", "mixed"):
        raise typer.BadParameter("choose uniform, hot or mixed")
    composed = composition(settings_for(phase))
    print(json.dumps(measure(composed, clients, seconds, workload, pipeline), indent=2))


def bench_profile(
    phase: Annotated[int | None, typer.Option("--phase", "-p", help="Phase (default latest)")] = None,
    clients: Annotated[int, typer.Option(help="concurrent clients")] = 16,
    seconds: Annotated[float, typer.Option(help="each run: unprofiled, then profiled")] = 12,
    per_request: Annotated[bool, typer.Option(
        help="one transaction per request (FINCORE_GROUP_COMMIT=false)")] = False,
    gc: Annotated[bool, typer.Option(help="also time the workers' garbage collection")] = False,
    raw: Annotated[Path | None, typer.Option(help="also write py-spy's raw samples here")] = None,
) -> None:
    """Where the API's CPU per transfer goes: py-spy by layer, uniform load (bench/profile_api)."""
    import json

    from fintech_core.bench.profile_api import profile
    from fintech_core.cli.context import composition, settings_for

    result = profile(composition(settings_for(phase)), clients, seconds, not per_request,
                     keep=raw, gc_probe=gc)
    print(json.dumps(result, indent=2))
