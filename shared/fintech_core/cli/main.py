"""`fincore`: one obvious way to run each thing.

    fincore up        start PostgreSQL, Redis, the broker and the API; Ctrl-C stops them all
    fincore down      stop everything the lab started (also after a crash)
    fincore status    real health checks of every component
    fincore serve     run the API in this process (compose, Docker, debugging)
    fincore chaos     the bank workload under faults, then every invariant checked
    fincore ledger verify   recompute every balance from postings (phase 1+)
    fincore drill     replay one failure against the naive baseline and a phase, side by side
    fincore relay / consume   phase 2's outbox relay and consumers (`up` starts them)
    fincore events status|verify|replay|dlq   phase 2's events, seen from PostgreSQL
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
from fintech_core.cli import drill
from fintech_core.cli import events as events_cli
from fintech_core.cli import ledger as ledger_cli
from fintech_core.cli.bench import bench
from fintech_core.labs.cli import app as lab_app
from fintech_core.settings import Settings
from fintech_core.stack.component import Health
from fintech_core.stack.lab import Lab
from fintech_core.stack.preflight import check_ports, lab_claims
from fintech_core.stack.processes import PidFile

app = typer.Typer(help="Fintech Core Lab: run the real stack, the service and its drills.",
                  no_args_is_help=True, add_completion=False)
app.add_typer(ledger_cli.app, name="ledger")
console = Console()

# Sub-commands that live in their own modules, registered explicitly here.
app.command()(bench)
app.add_typer(lab_app, name="lab")  # workshop labs: list, start, check, generate
app.add_typer(drill.app, name="drill")  # failure drills: list, run NAME
app.add_typer(events_cli.app, name="events")  # phase 2: status, verify, replay, dlq
app.command()(events_cli.relay)  # phase 2: outbox -> broker (started by `up`)
app.command()(events_cli.consume)  # phase 2: the consumers (started by `up`)

PhaseOpt = Annotated[int | None, typer.Option(
    "--phase", "-p", help="Phase to run (default: FINCORE_PHASE if set, else the latest built).")]


def _settings(phase: int | None) -> Settings:
    import os

    from phases import latest

    settings = Settings()
    if phase is None:
        phase = settings.phase if "FINCORE_PHASE" in os.environ else latest()
    return settings.model_copy(update={"phase": phase})


def _health_table(rows: list[Health], title: str = "Fintech Core Lab") -> Table:
    table = Table(title=title)
    for col in ("component", "ok", "where", "detail"):
        table.add_column(col)
    for h in rows:
        table.add_row(h.name, "[green]yes[/]" if h.ok else "[red]no[/]", h.where, h.detail)
    return table


def _supervisor_pid(lab: Lab) -> PidFile:
    return PidFile(lab.settings.lab_dir / "run" / "supervisor.pid", marker="fincore")


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
        console.print("[yellow]`fincore up` is already running; `fincore down` stops it.[/]")
        raise typer.Exit(1)
    api = lab.api(settings.phase, naive_baseline=naive, drill_mode=drill)
    check_ports(lab_claims(lab, api))  # every port, before anything starts
    with console.status("starting the lab...") as status:
        def progress(msg: str) -> None:
            status.update(msg)
            console.log(msg)

        lab.start_servers(progress)
        lab.prepare_database(settings.phase, progress)
        status.update(f"starting the API (phase {settings.phase})")
        # After a crash (`up` and the API killed) the relay and consumers may still run: say
        # which processes were reused and which this run started.
        verb = "started" if api.start() else "reusing"
        progress(f"{verb} the API at {api.url()} (pid {api.running_pid()})")
        workers = lab.workers(settings.phase)
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
    rows = [*lab.status(), lab.api(settings.phase).health(),
            *(w.health() for w in lab.workers(settings.phase))]
    console.print(_health_table(rows))
    if not all(h.ok for h in rows):
        raise typer.Exit(1)


@app.command()
def migrate(phase: PhaseOpt = None) -> None:
    """Create the phase database if needed and apply its migrations."""
    settings = _settings(phase)
    url = Lab(settings).prepare_database(settings.phase, console.log)
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
    lab.prepare_database(settings.phase, console.log)
    os.environ.update(lab.env(phase=settings.phase))
    uvicorn.run("fintech_core.bootstrap:create_app", factory=True, host=host, port=port,
                workers=workers, access_log=False)


@app.command("reap-keys")
def reap_keys(phase: PhaseOpt = None) -> None:
    """Delete idempotency keys older than the retention window now."""
    from fintech_core.bootstrap import bootstrap

    settings = _settings(phase)
    lab = Lab(settings)
    container = bootstrap(settings.model_copy(update={"database_url": lab.database_url()}))

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


def main() -> None:
    """Entry point: a startup failure is one red line with what to do, not a traceback."""
    try:
        app()
    except RuntimeError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
