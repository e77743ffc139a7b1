"""`fcl lab`: list the workshop labs, start one, check your work, regenerate starters."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fintech_core.cli.context import latest
from fintech_core.labs import registry
from fintech_core.labs.check import run_lab_tests
from fintech_core.labs.starter import generate_file
from fintech_core.labs.workspace import default_workspace, start

app = typer.Typer(help="Workshop labs: start an exercise, then check it against its tests.",
                  no_args_is_help=True)
console = Console()

LabNumber = Annotated[int, typer.Argument(help="Lab number, as in `./fcl lab list`.")]
PathOpt = Annotated[Path | None, typer.Option("--path", help="Workspace directory "
                                              "(default: ./workspace/lab-N).")]

_MARKS = {"passed": "[green]pass[/]", "failed": "[red]FAIL[/]", "skipped": "[yellow]skip[/]",
          "not run": "[red]not run[/]"}


def _spec(number: int) -> registry.LabSpec:
    try:
        return registry.find(latest().labs, number)
    except LookupError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None


@app.command("list")
def list_labs() -> None:
    """Every lab, its expected time, and the labs still planned."""
    table = Table(title="Workshop labs")
    for col in ("lab", "title", "minutes", "status"):
        table.add_column(col)
    for spec in latest().labs:
        table.add_row(str(spec.number), spec.title, str(spec.minutes), "ready")
    for planned in registry.PLANNED:
        table.add_row(str(planned.number), planned.title, "-",
                      f"planned: needs {planned.depends_on}")
    console.print(table)


@app.command("start")
def start_lab(number: LabNumber, path: PathOpt = None,
              force: Annotated[bool, typer.Option(help="Overwrite an existing copy.")] = False,
              ) -> None:
    """Copy the lab's starter into your workspace."""
    spec = _spec(number)
    dest = path or default_workspace(spec)
    try:
        copied = start(spec, dest, force=force)
    except FileExistsError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    console.print(f"lab {number}: {spec.title}\n" + "\n".join(f"  {p}" for p in copied))
    console.print(f"Edit [bold]{dest / spec.module}[/], then run:")
    # One unwrapped line, so that the command copied from the terminal is the whole command.
    console.print(f"  ./fcl lab check {number}{'' if path is None else f' --path {dest}'}",
                  style="bold", soft_wrap=True, highlight=False)


@app.command("check")
def check_lab(number: LabNumber, path: PathOpt = None) -> None:
    """Run the lab's tests against your copy; one line per acceptance criterion."""
    spec = _spec(number)
    code = path or default_workspace(spec)
    if not (code / spec.module).is_file():
        console.print(f"[red]{code / spec.module} not found.[/] Run `./fcl lab start {number}`"
                      " first, or pass --path to your copy.")
        raise typer.Exit(2)
    with console.status(f"running lab {number}'s tests against {code} ..."):
        result = run_lab_tests(spec, code)
    table = Table(title=f"Lab {number}: {spec.title}")
    table.add_column("criterion")
    table.add_column("result")
    table.add_column("why", overflow="fold")
    for row in result.results:
        why = row.message if len(row.message) <= 160 else row.message[:157] + "..."
        table.add_row(row.criterion, _MARKS.get(row.outcome, row.outcome), why)
    console.print(table)
    if result.passed:
        console.print(f"[green bold]All {len(result.results)} criteria pass.[/]")
        return
    if all(r.outcome == "not run" for r in result.results):
        console.print(result.output[-3000:], markup=False, highlight=False)
    failed = sum(r.outcome != "passed" for r in result.results)
    console.print(f"[red bold]{failed} of {len(result.results)} criteria not met.[/]")
    raise typer.Exit(1)


@app.command("generate")
def generate_starters(check: Annotated[bool, typer.Option(
        help="Only verify the committed starters are up to date.")] = False) -> None:
    """Regenerate every starter from its solution (maintainers; CI runs --check)."""
    stale = []
    for spec in latest().labs:
        fresh = generate_file(spec.solution, spec.number)
        current = spec.starter.read_text(encoding="utf-8") if spec.starter.exists() else None
        if current == fresh:
            continue
        stale.append(spec.starter)
        if not check:
            spec.starter.parent.mkdir(parents=True, exist_ok=True)
            spec.starter.write_text(fresh, encoding="utf-8")
    verb = "out of date" if check else "regenerated"
    for path in stale:
        console.print(f"{verb}: {path}")
    if check and stale:
        raise typer.Exit(1)
    if not stale:
        console.print("every starter matches its solution.")
