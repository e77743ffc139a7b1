"""`fcl payments ...`: the payments worker, reconciliation, webhook counters.

    ./fcl payments worker                          resume sagas, poll UNKNOWN (started by `up`)
    ./fcl payments reconcile --date 2026-05-01     settlement report vs ledger; repairs lost webhooks
    ./fcl payments webhooks                        forged / stale / duplicate webhooks, counted
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Phase 3 payments: worker, reconciliation, webhook counters.",
                  no_args_is_help=True)
console = Console()
PhaseOpt = Annotated[int | None, typer.Option("--phase", "-p", help="Phase (>= 3).")]
T = TypeVar("T")


def _with_runtime(phase: int | None, work: Callable[[Any], Awaitable[T]]) -> T:
    from fintech_core.bootstrap import bootstrap
    from fintech_core.cli.context import composition, settings_for
    from fintech_core.payments.runtime import runtime_of
    from fintech_core.stack.lab import Lab

    settings = settings_for(phase)
    comp = composition(settings)
    if "payments" not in comp.features:
        console.print(f"[red]phase {settings.phase} has no payments[/] (they arrive in phase 3)")
        raise typer.Exit(2)
    container = bootstrap(settings.model_copy(update={
        "database_url": Lab(settings).database_url()}), comp)

    async def run() -> T:
        await container.open()
        rt = runtime_of(container)
        try:
            return await work(rt)
        finally:
            await rt.close()
            await container.close()

    return asyncio.run(run())


@app.command()
def worker(phase: PhaseOpt = None) -> None:
    """Resume payout sagas, poll UNKNOWN payments and payouts, re-send refunds: until stopped."""
    from fintech_core.payments.worker import run_forever

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    async def work(rt: Any) -> None:
        task = asyncio.create_task(run_forever(rt))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    _with_runtime(phase, work)


@app.command()
def reconcile(
    day: Annotated[str, typer.Option("--date", help="UTC day of the settlement report, "
                                     "YYYY-MM-DD (default: today).")] = "",
    provider: Annotated[list[str] | None, typer.Option(
        "--provider", help="Only this provider (repeatable); default: both.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
    phase: PhaseOpt = None,
) -> None:
    """Compare the provider's settlement report with the ledger; apply lost webhooks."""
    from fintech_core.payments.reconcile import as_dicts
    from fintech_core.payments.reconcile import reconcile as run_reconcile
    from fintech_core.payments.runtime import PROVIDERS

    try:
        when = date.fromisoformat(day) if day else datetime.now(UTC).date()
    except ValueError as exc:
        console.print(f"[red]--date must be YYYY-MM-DD[/], got {day!r}")
        raise typer.Exit(2) from exc
    names = provider or list(PROVIDERS)
    unknown = [n for n in names if n not in PROVIDERS]
    if unknown:
        console.print(f"[red]unknown provider {unknown}[/]; known: {list(PROVIDERS)}")
        raise typer.Exit(2)
    from fintech_core.payments.ports import ProviderError

    try:
        findings = as_dicts(_with_runtime(phase, lambda rt: run_reconcile(rt, when, names)))
    except ProviderError as exc:
        console.print(f"[red]the provider did not answer[/] ({exc}); nothing was changed "
                      "(is the simulator running? `./fcl status`)")
        raise typer.Exit(1) from exc
    if as_json:
        print(json.dumps({"date": when.isoformat(), "findings": findings}, indent=2))
        return
    table = Table(title=f"reconciliation {when.isoformat()}")
    for col in ("category", "provider", "kind", "reference", "provider ref", "provider amount",
                "ledger amount", "fee", "action"):
        table.add_column(col)
    for f in findings:
        table.add_row(*(str(f[k]) if f[k] is not None else "-" for k in (
            "category", "provider", "kind", "reference", "provider_ref", "provider_amount",
            "ledger_amount", "fee", "action")))
    console.print(table)
    counts: dict[str, int] = {}
    for f in findings:
        counts[f["category"]] = counts.get(f["category"], 0) + 1
    repaired = sum(1 for f in findings if f["action"] == "repaired")
    console.print(f"{counts or 'no lines'}; repaired {repaired}; fees "
                  f"{sum(f['fee'] for f in findings)}")


@app.command()
def webhooks(phase: PhaseOpt = None,
             as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Webhooks refused (forged, stale, malformed), duplicates, and accepted ones per outcome."""
    from fintech_core.payments.effects import repo

    async def work(rt: Any) -> list[dict[str, Any]]:
        async with rt.c.uow_factory() as uow:
            return await repo(uow).webhook_stats()  # type: ignore[no-any-return]

    rows = _with_runtime(phase, work)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(title="webhooks")
    for col in ("provider", "reason", "count"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["provider"], r["reason"], str(r["count"]))
    console.print(table)
