"""`fcl provider ...`: run the simulator and turn its knobs from a terminal.

    ./fcl provider serve                         the simulator in the foreground (`up` runs it)
    ./fcl provider knobs get                     every knob entry and what applies now
    ./fcl provider knobs set ledgerpay decline=true times=1
    ./fcl provider reset                         every knob back to its default
    ./fcl provider rotate ledgerpay              a new webhook secret (both sign until retire)
    ./fcl provider retire ledgerpay              drop the oldest webhook secret
    ./fcl provider settlement --date 2026-05-01  the provider's report for a UTC date

The phase that runs the simulator declares this group (CliEntry("provider", app)) and the
worker (WorkerSpec("provider", ("provider", "serve"), port_setting="provider_port", ...)).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
import typer

from fintech_core.provider_sim.secrets import load_or_create
from fintech_core.settings import Settings

app = typer.Typer(help="The payment provider simulator (phase 3): serve, knobs, rotation.",
                  no_args_is_help=True)
knobs_app = typer.Typer(help="Runtime knobs: latency, decline, timeout, webhook faults.",
                        no_args_is_help=True)
app.add_typer(knobs_app, name="knobs")
Provider = Annotated[str, typer.Argument(help="ledgerpay or stripeish")]


def _call(method: str, path: str, *, key: str = "admin", **kwargs: Any) -> Any:
    s = Settings()
    secrets = load_or_create(s.lab_dir)
    token = secrets.admin_key if key == "admin" else secrets.of(key).api_key
    url = f"http://{s.provider_host}:{s.provider_port}{path}"
    try:
        response = httpx.request(method, url, headers={"Authorization": f"Bearer {token}"},
                                 timeout=10, **kwargs)
    except httpx.HTTPError as exc:
        raise RuntimeError(f"the provider simulator does not answer at {url} ({exc}); "
                           "start the lab at phase 3 or later, or run its `provider serve` "
                           "command") from None
    if response.status_code >= 400:
        raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
    return response.json()


def _print(value: Any) -> None:
    print(json.dumps(value, indent=2))


@app.command()
def serve() -> None:
    """Run the simulator in this process (FINCORE_PROVIDER_HOST/PORT; the lab's PostgreSQL)."""
    from fintech_core.provider_sim.server import serve as run

    run(Settings())


@knobs_app.command("get")
def knobs_get() -> None:
    """Every knob entry as set, and what applies to each personality now."""
    _print(_call("GET", "/_admin/knobs"))


def _value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw  # a bare word: timeout=after


@knobs_app.command("set")
def knobs_set(provider: Annotated[str, typer.Argument(help="ledgerpay, stripeish or '*'")],
              values: Annotated[list[str], typer.Argument(help="name=value ...")]) -> None:
    """Merge knobs into the entry of `provider`, e.g. `decline=true times=1`."""
    body: dict[str, Any] = {"provider": provider}
    for item in values:
        name, sep, raw = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"{item!r} is not name=value")
        body[name] = _value(raw)
    _print(_call("POST", "/_admin/knobs", json=body))


@app.command()
def reset() -> None:
    """Every knob back to its default."""
    _print(_call("POST", "/_admin/reset"))


@app.command()
def rotate(provider: Provider) -> None:
    """Prepend a new webhook secret: webhooks carry one signature per secret until `retire`."""
    _print(_call("POST", f"/_admin/rotate/{provider}"))


@app.command()
def retire(provider: Provider) -> None:
    """Drop the oldest webhook secret of a personality."""
    _print(_call("POST", f"/_admin/retire/{provider}"))


@app.command()
def settlement(date: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (UTC); "
                                                         "default today")] = None,
               provider: Annotated[str, typer.Option(help="ledgerpay or stripeish")]
               = "ledgerpay") -> None:
    """The provider's settlement report for a UTC date."""
    day = date or datetime.now(UTC).date().isoformat()
    _print(_call("GET", f"/{provider}/v1/settlements/{day}", key=provider))
