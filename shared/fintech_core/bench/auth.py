"""Who the bench's clients are, per API it drives: the lab's driver once a phase verifies tokens.

The bench starts several APIs in one run (the main one, one per phase and mode for the phase-cost
table, a phase part's comparison API), of different compositions: a phase-3 API wants no token, a
phase-4 one refuses a request without one. Whoever starts an API for the bench registers it here
with its composition (`register`), and every client of the bench (`seed`, `loadgen`, the
checks' ledger verify, a phase part's probes) asks `auth_of(url)`: the composition's
`client_auth` (phase 4: the seeded lab-driver, a *service* client, so its requests spend the
per-service rate bucket, sized above what the bench drives), or None before phase 4.

The raw-socket load generator cannot run an httpx.Auth: it is handed one token for its whole
run through the environment (`loadgen_env`; never argv, which any local user can read in `ps`),
checked to outlive the run.
"""

from __future__ import annotations

from typing import Any

from fintech_core.phase import Composition
from fintech_core.settings import Settings
from fintech_core.stack.client_auth import client_auth_for, raw_token

TOKEN_ENV = "FCL_LOADGEN_TOKEN"  # read by bench/loadgen.py
TOKEN_SLACK_S = 30.0  # beyond the run: the loadgen's start, its last answers, a slow machine

_AUTHS: dict[str, Any] = {}


def _key(url: str) -> str:
    return url.rstrip("/")


def register(url: str, composition: Composition, settings: Settings) -> Any:
    """Record how to authenticate to the API at `url` (call once it answers, after seeding of
    its database: the driver's secret comes from the lab's seeded.json). Returns the Auth."""
    auth = client_auth_for(composition, settings, url)
    if auth is None:
        _AUTHS.pop(_key(url), None)
    else:
        _AUTHS[_key(url)] = auth
    return auth


def forget(url: str) -> None:
    _AUTHS.pop(_key(url), None)


def auth_of(url: str) -> Any:
    """The httpx.Auth for the API at `url`, None when it needs none (or was never registered:
    a phase-4 API then answers 401, which the bench's checks report)."""
    return _AUTHS.get(_key(url))


def loadgen_env(url: str, seconds: float) -> dict[str, str]:
    """What the load generator's environment adds for `url`: a token valid for the run."""
    auth = auth_of(url)
    if auth is None:
        return {}
    return {TOKEN_ENV: raw_token(auth, seconds + TOKEN_SLACK_S)}
