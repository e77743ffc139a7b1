"""`fcl drill`: list the failure drills and replay one on the embedded stack.

    fcl drill list
    fcl drill run response-lost --against both --phase 0 [--json]

Exit code: 0 when every invariant that must hold held (the naive baseline breaking is the lesson,
not a failure); 1 when the phase broke one; 2 for a drill name that does not exist.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Replay the failures that make money-moving systems hard.",
                  no_args_is_help=True, add_completion=False)
console = Console()


@app.command("list")
def list_drills() -> None:
    """The registered drills, in the order the article series meets them."""
    from fintech_core.cli.context import latest

    table = Table(title="failure drills")
    for col in ("name", "what happens", "fault"):
        table.add_column(col, no_wrap=col == "name")
    for drill in latest().drills:
        table.add_row(drill.name, drill.title, drill.fault)
    console.print(table)


@app.command("run")
def run_drill(
    name: Annotated[str, typer.Argument(help="A drill from `./fcl drill list`.")],
    phase: Annotated[int | None, typer.Option("--phase", "-p",
                     help="Phase to play against (default: the latest built).")] = None,
    against: Annotated[str, typer.Option(
        help="naive, phase, or both (side by side).")] = "both",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Play one drill: a timeline of every request, fault and database fact, then a verdict."""
    from fintech_core.cli.context import composition, settings_for
    from fintech_core.drills.registry import names
    from fintech_core.drills.render import render
    from fintech_core.drills.runner import run

    composed = composition(settings_for(phase))
    if name not in names(composed.drills):
        console.print(f"[red]no drill named {name!r}[/]; try: {', '.join(names(composed.drills))}")
        raise typer.Exit(2)
    if against not in ("naive", "phase", "both"):
        console.print("[red]--against must be naive, phase or both[/]")
        raise typer.Exit(2)
    if as_json:
        report = run(name, composed, against=against)  # type: ignore[arg-type]
        print(report.to_json())
    else:
        with console.status(f"playing {name}..."):
            report = run(name, composed, against=against)  # type: ignore[arg-type]
        render(report, console)
    if not report.ok:
        raise typer.Exit(1)
