"""`fcl auth ...`: the lab's seeded identities (phase 4).

    ./fcl auth seed                 create the seeded users and clients (idempotent; `up` does it)
    ./fcl auth users                who they are, their roles and passwords (a local lab!)
    TOKEN=$(./fcl auth token alice)  an access token from the running API, and nothing else
    curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8000/accounts

`token` prints only the token on stdout (errors go to stderr, exit status 1), so the shell
substitution above gets a token or fails visibly, never a token with a message around it.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Phase 4: the lab's seeded users and clients, and tokens for them.",
                  no_args_is_help=True)
console = Console()
errors = Console(stderr=True)
PhaseOpt = Annotated[int | None, typer.Option("--phase", "-p", help="Phase (>= 4).")]


def _settings(phase: int | None):  # type: ignore[no-untyped-def]
    from fintech_core.cli.context import composition, settings_for

    settings = settings_for(phase)
    comp = composition(settings)
    if "auth" not in comp.features:
        errors.print(f"[red]phase {settings.phase} has no auth[/] (it arrives in phase 4)")
        raise typer.Exit(2)
    return settings, comp


@app.command()
def seed(phase: PhaseOpt = None) -> None:
    """Migrate the phase database if needed and seed the lab's users and clients (idempotent:
    secrets are generated once per lab directory and kept in <lab_dir>/auth/seeded.json)."""
    from fintech_core.auth.seed import seed_lab_identities, seeded_path
    from fintech_core.stack.lab import Lab

    settings, comp = _settings(phase)
    url = Lab(settings).prepare_database(comp, console.log, seed=False)  # seeded here, counted
    changed = seed_lab_identities(settings, url)
    console.print(f"seeded identities: {changed} row(s) written "
                  f"({'none needed' if not changed else 'created or repaired'}); "
                  f"secrets in {seeded_path(settings)}")


@app.command()
def users(phase: PhaseOpt = None) -> None:
    """The seeded users and clients with their roles and passwords. The passwords are shown
    because this is a local teaching lab: a production system never stores or prints them."""
    from fintech_core.auth.seed import SEEDED, load_seeded

    settings, _ = _settings(phase)
    try:
        recorded = load_seeded(settings)
    except FileNotFoundError as exc:
        errors.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    table = Table(title="Seeded identities (local lab: passwords in clear, never in production)")
    table.add_column("name", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("roles")
    table.add_column("password / secret", no_wrap=True)  # whole, to copy and paste
    table.add_column("what for")
    for ident in SEEDED:
        entry = recorded.get(ident.name)
        if entry is not None:
            table.add_row(ident.name, ident.kind, ", ".join(entry["roles"]), entry["secret"],
                          ident.about)
    console.print("kind: user logs in with a password (password grant), client with its "
                  "secret (client_credentials).")
    console.print(table)


@app.command()
def token(name: Annotated[str, typer.Argument(help="A seeded user (or client) name.")],
          phase: PhaseOpt = None,
          url: Annotated[str | None, typer.Option(
              help="The API's base URL (default: the lab's FINCORE_API_HOST/PORT).")] = None,
          ) -> None:
    """Log in as a seeded user through the running API (password grant; client_credentials for
    a client) and print only the access token."""
    import httpx

    from fintech_core.auth.seed import load_seeded

    settings, _ = _settings(phase)
    try:
        entry = load_seeded(settings).get(name)
    except FileNotFoundError as exc:
        errors.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    if entry is None:
        errors.print(f"[red]{name} is not a seeded identity[/] (see `fcl auth users`)")
        raise typer.Exit(1)
    base = url or f"http://{settings.api_host}:{settings.api_port}"
    body = ({"grant_type": "password", "username": name, "password": entry["secret"]}
            if entry["kind"] == "user" else
            {"grant_type": "client_credentials", "client_id": name,
             "client_secret": entry["secret"]})
    try:
        r = httpx.post(f"{base.rstrip('/')}/auth/token", data=body, timeout=10)
    except httpx.HTTPError as exc:
        errors.print(f"[red]cannot reach the API at {base}[/]: {exc!r} (is it up? `fcl up`)")
        raise typer.Exit(1) from None
    if r.status_code != 200:
        errors.print(f"[red]the API refused the login: {r.status_code}[/] {r.text[:300]}")
        raise typer.Exit(1)
    sys.stdout.write(r.json()["access_token"] + "\n")
