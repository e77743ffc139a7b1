"""`fcl chaos`: the bank workload under faults, on the embedded stack (issue #7)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from fintech_core.chaos.config import ChaosConfig
from fintech_core.chaos.faults import registry

ALL_FAULTS = ",".join(registry(None))
DEFAULT_TOKEN_TTL_S = 30  # phase 4 on: several expiries in any run longer than a minute


def chaos(
    phase: Annotated[int | None, typer.Option("--phase", "-p", help="Phase (default: latest).")] = None,
    transfers: Annotated[int, typer.Option(help="Transfers (keys) to settle.")] = 1000,
    workers: Annotated[int, typer.Option(help="Concurrent writers.")] = 12,
    accounts: Annotated[int, typer.Option(help="Accounts the money moves among.")] = 16,
    faults: Annotated[str, typer.Option(help=f"Comma-separated, or 'all' ({ALL_FAULTS}, and the "
                                              "faults the phases declare, e.g. phase 2's "
                                              "relay-kill, broker-stop, consumer-kill, poison, "
                                              "phase 3's provider-timeout-before, "
                                              "provider-timeout-after, duplicate-webhooks, "
                                              "reorder-webhooks, lost-webhooks), "
                                              "or 'none'. pg-restart and broker-stop stop the "
                                              "embedded server for everything using it."
                                         )] = "api-kill,pg-terminate",
    fault_every: Annotated[int, typer.Option(help="One fault per ~N settled transfers.")] = 80,
    target: Annotated[str, typer.Option(help="bank, or naive (the broken baseline: fails).")] = "bank",
    seed: Annotated[int, typer.Option()] = 7,
    broker_outage: Annotated[float, typer.Option(help="Seconds broker-stop keeps the broker down."
                                                 )] = 60.0,
    drain_bound: Annotated[float, typer.Option(help="Seconds the async path may take to drain "
                                               "its backlog after the broker returns, and "
                                               "after the run.")] = 120.0,
    token_ttl: Annotated[int | None, typer.Option(
        help="Phases that verify tokens (4 on): the API's access-token lifetime in seconds for "
             "this run, default 30, so tokens expire mid-run; the API then allows no clock "
             "leeway and the driver renews only when a token is refused or expired, so the "
             "writers cross expiries and 401 retries, and the run fails if it crossed none. "
             "0: the API's own TTL (300 s) and leeway.")] = None,
    out: Annotated[Path, typer.Option(help="Where the operation log and results go.")] = Path("results"),
) -> None:
    """Move money with many workers, random client timeouts and retries while faults hit the
    stack; then check every invariant. Exit 1 on any violation."""
    from fintech_core.chaos.env import CHAOS_DATABASE_PREFIX, ChaosEnv
    from fintech_core.chaos.report import render
    from fintech_core.chaos.runner import run
    from fintech_core.cli.context import composition, settings_for
    from fintech_core.stack.session import LabSession

    console = Console()
    settings = settings_for(phase).model_copy(update={"database_prefix": CHAOS_DATABASE_PREFIX})
    options: dict[str, float] = {"broker_outage_s": broker_outage, "drain_bound_s": drain_bound}
    console.log(f"starting the lab (phase {settings.phase})")
    try:
        composed = composition(settings)
        every = ",".join(registry(None, composed.chaos_faults))
        names = every if faults == "all" else "" if faults == "none" else faults
        if token_ttl and composed.client_auth is None:
            raise ValueError(f"--token-ttl needs a phase that verifies tokens (phase "
                             f"{settings.phase} has none)")
        ttl = (DEFAULT_TOKEN_TTL_S if token_ttl is None else token_ttl
               ) if composed.client_auth is not None else 0
        session_flags: dict[str, Any] = {}
        if ttl:
            options["token_ttl_s"] = ttl
            session_flags = {"auth_access_ttl_seconds": ttl, "auth_clock_leeway_seconds": 0}
        config = ChaosConfig(phase=settings.phase, target=target, transfers=transfers,
                             workers=workers, accounts=accounts,
                             faults=tuple(n for n in names.split(",") if n),
                             fault_every=fault_every, seed=seed, extra=options)
        with LabSession(composed, settings=settings, **session_flags) as s:
            if ttl and hasattr(s.auth, "refresh_margin_s"):
                s.auth.refresh_margin_s = 0.0  # used to its expiry: see --token-ttl
            env = ChaosEnv(s.api, s.database_url, s.lab.postgres, settings.phase,
                           composed.chaos_hooks, composed.chaos_faults, s, options)
            console.log(f"API {s.url}, database {s.database_url}, faults {config.faults or 'none'}")
            began = time.monotonic()
            with console.status(f"{transfers} transfers, {workers} workers, under fire..."):
                res = run(env, config, out)
    except ValueError as exc:  # an unknown phase, target or fault: say so, no traceback
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    console.log(f"done in {time.monotonic() - began:.0f} s; log and results in {res['log']}")
    render(res, console)
    if not res["ok"]:
        raise typer.Exit(1)
