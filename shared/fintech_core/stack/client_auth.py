"""How the lab's own tools authenticate to the API they drive.

Drills, chaos runs, the bench and the notebooks are clients like any other: once a phase declares
a verifying identity (phase 4), their requests need a token. The phase also declares how the
lab's driver gets one (`Phase.client_auth`: Settings and base URL -> httpx.Auth); through phase 3
there is nothing to add and this returns None, which httpx reads as "no auth".
"""

from __future__ import annotations

import time
from typing import Any

import jwt

from fintech_core.phase import Composition
from fintech_core.settings import Settings


class ClientAuthUnavailable(RuntimeError):
    """A phase's client auth could not get a token (its token endpoint unreachable or refusing).
    Its Auth raises this (or a subclass) instead of sending a request without credentials; a
    tool that retries through outages (the chaos workload) treats it like a transport error."""


def client_auth_for(composition: Composition, settings: Settings, base_url: str) -> Any:
    """An httpx.Auth for the lab's driver on `base_url`, or None when no phase needs one."""
    if composition.client_auth is None:
        return None
    return composition.client_auth(settings, base_url)


def token_claims(token: str) -> dict[str, Any]:
    """The claims of a token the lab's driver was *given*, read without verifying it. For the
    driver's own bookkeeping only (when its token expires, which subject the API will see);
    never a way to trust a token someone else sent: the API verifies every token it receives."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def raw_token(auth: Any, valid_for_s: float) -> str:
    """A bearer token from `auth` (an Auth with `sync_token()`, e.g. the lab-driver's) that
    stays valid for at least `valid_for_s` more seconds, for a client that cannot run an
    httpx.Auth (the raw-socket load generator sends one token for its whole run).

    The cached token is used if it lives long enough, else a fresh one is granted; if even a
    fresh one would expire before the run ends, ValueError: the run must be shorter than the
    access-token TTL (FINCORE_AUTH_ACCESS_TTL_SECONDS), or it would be measured on 401s."""
    token: str = auth.sync_token()
    if _seconds_left(token) < valid_for_s:
        token = auth.sync_token(rejected=token)
    left = _seconds_left(token)
    if left < valid_for_s:
        raise ValueError(f"a fresh access token lives {left:.0f} s, less than the {valid_for_s:.0f}"
                         " s it must cover: shorten the run or raise "
                         "FINCORE_AUTH_ACCESS_TTL_SECONDS")
    return token


def _seconds_left(token: str) -> float:
    return float(token_claims(token)["exp"]) - time.time()
