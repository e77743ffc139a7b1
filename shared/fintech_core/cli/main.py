"""`fcl`: one obvious way to run each thing.

    fcl up        start PostgreSQL, Redis, the broker and the API; Ctrl-C stops them all
    fcl down      stop everything the lab started (also after a crash)
    fcl status    real health checks of every component
    fcl serve     run the API in this process (compose, Docker, debugging)
    fcl chaos     the bank workload under faults, then every invariant checked
    fcl ledger verify   recompute every balance from postings (phase 1+)
    fcl drill     replay one failure against the naive baseline and a phase, side by side
    fcl relay / consume   phase 2's outbox relay and consumers (`up` starts them)
    fcl events status|verify|replay|dlq   phase 2's events, seen from PostgreSQL
"""

from __future__ import annotations

import asyncio
import signal
import threading
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fintech_core.chaos.cli import chaos as chaos_command
from fintech_core.cli import context, drill
from fintech_core.cli.bench import bench, bench_cpu, bench_profile
from fintech_core.cli.context import composition, settings_for
from fintech_core.labs.cli import app as lab_app
from fintech_core.phase import Registry
from fintech_core.settings import Settings
from fintech_core.stack.component import Health
from fintech_core.stack.lab import Lab
from fintech_core.stack.preflight import check_ports, lab_claims
from fintech_core.stack.processes import PidFile

app = typer.Typer(help="Fintech Core Lab: run the real stack, the service and its drills.",
                  no_args_is_help=True, add_completion=False)
console = Console()

# The core's own sub-commands, registered explicitly here; each phase's (ledger, events, relay,
# consume, ...) are added by build_cli from what the phase declares.
app.command()(bench)
app.command("bench-cpu")(bench_cpu)
app.command("bench-profile")(bench_profile)
app.add_typer(lab_app, name="lab")  # workshop labs: list, start, check, generate
app.add_typer(drill.app, name="drill")  # failure drills: list, run NAME

PhaseOpt = Annotated[int | None, typer.Option(
    "--phase", "-p", help="Phase to run (default: FINCORE_PHASE if set, else the latest built).")]
_settings = settings_for


def _health_table(rows: list[Health], title: str = "Fintech Core Lab") -> Table:
    table = Table(title=title)
    for col in ("component", "ok", "where", "detail"):
        table.add_column(col)
    for h in rows:
        table.add_row(h.name, "[green]yes[/]" if h.ok else "[red]no[/]", h.where, h.detail)
    return table


def _supervisor_pid(lab: Lab) -> PidFile:
    # `up` runs as the `fcl` console script (make up, ./fcl up) or as `python -m` of the
    # registry's CLI module (tests); the marker is the command, so `down` never signals a
    # process that merely reused the pid.
    module = context.registry().composition(context.registry().latest()).entrypoints.cli_module
    return PidFile(lab.settings.lab_dir / "run" / "supervisor.pid",
                   marker=("fcl up", f"{module} up"))


@app.command()
def up(phase: PhaseOpt = None,
       detach: Annotated[bool, typer.Option(help="Return once everything is up.")] = False,
       naive: Annotated[bool, typer.Option(help="Also mount the naive baseline.")] = True,
       drill: Annotated[bool, typer.Option(help="Enable fault points (/_drill).")] = False) -> None:
    """Start the embedded stack and the API for a phase, then wait for Ctrl-C."""
    settings = _settings(phase)
    lab = Lab(settings)
    pidfile = _supervisor_pid(lab)
    if not detach and pidfile.read() is not None:
        console.print("[yellow]`fcl up` is already running; `./fcl down` stops it.[/]")
        raise typer.Exit(1)
    composed = composition(settings)
    api = lab.api(composed, naive_baseline=naive, drill_mode=drill)
    check_ports(lab_claims(lab, api))  # every port, before anything starts
    with console.status("starting the lab...") as status:
        def progress(msg: str) -> None:
            status.update(msg)
            console.log(msg)

        lab.start_servers(progress)
        lab.prepare_database(composed, progress)
        status.update(f"starting the API (phase {settings.phase})")
        # After a crash (`up` and the API killed) the relay and consumers may still run: say
        # which processes were reused and which this run started.
        verb = "started" if api.start() else "reusing"
        progress(f"{verb} the API at {api.url()} (pid {api.running_pid()})")
        workers = lab.workers(composed)
        for worker in workers:
            status.update(f"starting {worker.name}")
            verb = "started" if worker.start() else "reusing"
            progress(f"{verb} {worker.name} (pid {worker.running_pid()})")
    rows = [*lab.status(), api.health(), *(w.health() for w in workers)]
    console.print(_health_table(rows))
    console.print(f"API        {api.url()}\nOpenAPI    {api.url()}/docs\n"
                  f"Database   {lab.phase_database_url(settings.phase)}\n"
                  f"Logs       {settings.lab_dir / 'logs'}")
    if detach:
        return
    import os

    pidfile.write(os.getpid())
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    console.print("[bold]Up.[/] Ctrl-C (or `make down`) stops everything.")
    try:
        while not stop.wait(2):
            if api.running_pid() is None:
                console.print("[red]the API process exited; see its log. Stopping.[/]")
                break
            for worker in workers:
                if worker.running_pid() is None:  # a relay or consumer may crash: restart it
                    console.print(f"[yellow]{worker.name} exited; restarting it[/]")
                    worker.start()
    finally:
        with console.status("stopping..."):
            lab.down()
        pidfile.path.unlink(missing_ok=True)
        console.print("stopped.")


@app.command()
def down() -> None:
    """Stop the relay and consumers, the API, the broker, Redis and PostgreSQL started by the
    lab."""
    lab = Lab(Settings())
    supervisor = _supervisor_pid(lab).read()
    if supervisor is not None:
        from fintech_core.stack.processes import terminate

        terminate(supervisor, timeout=30)  # it stops its children on SIGTERM
    lab.down()
    console.print("the lab is down.")


@app.command()
def status(phase: PhaseOpt = None) -> None:
    """Health of every component (real checks, not pid files)."""
    settings = _settings(phase)
    lab = Lab(settings)
    composed = composition(settings)
    rows = [*lab.status(), lab.api(composed).health(),
            *(w.health() for w in lab.workers(composed))]
    console.print(_health_table(rows))
    if not all(h.ok for h in rows):
        raise typer.Exit(1)


@app.command()
def migrate(phase: PhaseOpt = None) -> None:
    """Create the phase database if needed and apply its migrations."""
    settings = _settings(phase)
    url = Lab(settings).prepare_database(composition(settings), console.log)
    console.print(f"migrated {url}")


@app.command()
def serve(phase: PhaseOpt = None,
          host: Annotated[str, typer.Option()] = "127.0.0.1",
          port: Annotated[int, typer.Option()] = 8000,
          workers: Annotated[int, typer.Option(help="uvicorn worker processes")] = 1) -> None:
    """Migrate, then run the API in the foreground (uses the FINCORE_* servers)."""
    import os

    import uvicorn

    settings = _settings(phase)
    lab = Lab(settings)
    composed = composition(settings)
    lab.prepare_database(composed, console.log)
    os.environ.update(lab.env(phase=settings.phase))
    # proxy_headers=False: the caller is the socket's peer. uvicorn's default trusts
    # X-Forwarded-For from 127.0.0.1, which would let any local client pick the address the
    # login throttle and the rate limiter count it under (tests/e2e/test_attacker_suite.py).
    uvicorn.run(composed.entrypoints.app_factory, factory=True, host=host, port=port,
                workers=workers, access_log=False, proxy_headers=False)


@app.command("reap-keys")
def reap_keys(phase: PhaseOpt = None) -> None:
    """Delete idempotency keys older than the retention window now."""
    from fintech_core.bootstrap import bootstrap

    settings = _settings(phase)
    lab = Lab(settings)
    container = bootstrap(settings.model_copy(update={"database_url": lab.database_url()}),
                          composition(settings))

    async def run() -> int:
        await container.open()
        try:
            return await container.reap_keys()
        finally:
            await container.close()

    console.print(f"reaped {asyncio.run(run())} keys older than "
                  f"{settings.idempotency_retention_hours} h")


@app.command()
def env(phase: PhaseOpt = None) -> None:
    """Print `export` lines pointing a shell at this lab's servers."""
    settings = _settings(phase)
    for key, value in Lab(settings).env(phase=settings.phase).items():
        if key.startswith("FINCORE_"):
            print(f"export {key}={value}")


app.command("chaos")(chaos_command)


def build_cli(registry: Registry) -> typer.Typer:
    """The CLI for a registry: the core's commands plus every command and group the built
    phases declare (a command of a later phase refuses an earlier phase by itself)."""
    context.install(registry)
    cli = typer.Typer(help=app.info.help, no_args_is_help=True, add_completion=False)
    cli.registered_commands = list(app.registered_commands)
    cli.registered_groups = list(app.registered_groups)
    for entry in registry.composition(registry.latest()).cli:
        if isinstance(entry.target, typer.Typer):
            cli.add_typer(entry.target, name=entry.name)
        else:
            cli.command(entry.name)(entry.target)
    return cli


def run(registry: Registry) -> None:
    """Entry point: a startup failure is one red line with what to do, not a traceback."""
    cli = build_cli(registry)
    try:
        cli()
    except RuntimeError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise SystemExit(1) from None
