"""`fcl ledger ...`: operate on a phase's ledger from the shell.

    fcl ledger verify --phase 1    recompute every balance from postings; exit 1 on drift
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fintech_core.cli.context import composition, settings_for

app = typer.Typer(help="The phase-1 ledger: verify it.", no_args_is_help=True)
console = Console()


@app.command()
def verify(phase: Annotated[int | None, typer.Option("--phase", "-p")] = None,
           as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]
           = False) -> None:
    """Recompute every balance from the postings and report any drift (exit 1 if not zero)."""
    from fintech_core.bootstrap import bootstrap
    from fintech_core.ledger.routes.details import VerifyOut
    from fintech_core.stack.lab import Lab

    settings = settings_for(phase)
    server = Lab(settings).database_url()
    container = bootstrap(settings.model_copy(update={"database_url": server}),
                          composition(settings))
    if "ledger" not in container.composition.features:
        console.print(f"[red]phase {settings.phase} has no ledger[/] (it arrives in phase 1)")
        raise typer.Exit(2)

    async def run() -> VerifyOut:
        await container.open()
        try:
            async with container.uow_factory() as uow:
                return VerifyOut.of(await uow.extension("ledger_reads").verify())
        finally:
            await container.close()

    report = asyncio.run(run())
    if as_json:
        print(json.dumps(report.model_dump(mode="json"), indent=2))
    else:
        table = Table(title=f"ledger verify, phase {settings.phase}")
        for col in ("currency", "customers", "system", "sum", "pending out", "pending in"):
            table.add_column(col)
        for t in report.totals:
            table.add_row(t["currency"], str(t["customers"]), str(t["system"]),
                          str(t["customers"] + t["system"]), str(t["pending_out"]),
                          str(t["pending_in"]))
        console.print(table)
        console.print({k: v for k, v in report.findings.items() if v})
        console.print(f"{report.accounts} accounts, {report.journal_entries} entries, "
                      f"{report.postings} postings: drift [bold]{report.drift}[/]")
    if report.drift:
        raise typer.Exit(1)
