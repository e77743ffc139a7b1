"""Phase 4's draft manifest composed after the registry's phases, with entry points of its own,
so that a real API process (`uvicorn --factory tests.phase4_draft:create_app`) and a real `fcl`
(`python -m tests.phase4_draft ...`) run it before the lead registers phase 4.

Its app also mounts the rate limiter (limits/middleware.py) and a probe route, `/_test/whoami`
(GET, and POST echoing a JSON body), that answers who the phase-4 identity says is calling: until
the lead's `require(...)` protects the real routes, it proves that a client's credentials arrive
and verify.
Once phases/__init__.py registers phase 4, the registered manifest is probed instead.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from starlette.middleware import Middleware

from fintech_core.api.app import build_app
from fintech_core.auth.jwt_identity import JwtIdentity, jwt_identity
from fintech_core.bootstrap import bootstrap
from fintech_core.cli.main import run
from fintech_core.limits.middleware import RateLimitMiddleware
from fintech_core.phase import Entrypoints, Registry
from fintech_core.settings import Settings
from phases import REGISTRY
from phases.phase04_auth import PHASE as PHASE_4


def _identity(request: Request) -> JwtIdentity:
    state = request.app.state
    if not hasattr(state, "test_identity"):
        state.test_identity = jwt_identity(state.container)
    return state.test_identity  # type: ignore[no-any-return]


def probe_router() -> APIRouter:
    r = APIRouter(tags=["test"])

    @r.get("/_test/whoami")
    async def whoami(request: Request) -> dict[str, Any]:
        p = await _identity(request).authenticate(request)
        return {"subject": p.subject, "roles": sorted(p.roles), "client": p.client}

    @r.post("/_test/whoami")
    async def echo(request: Request) -> dict[str, Any]:
        p = await _identity(request).authenticate(request)
        return {"subject": p.subject, "body": await request.json()}

    return r


PROBED_PHASE_4 = replace(PHASE_4, routers=(*PHASE_4.routers, probe_router))
_BEFORE = tuple(p for p in REGISTRY.phases if p.number < PHASE_4.number)

DRAFT_REGISTRY = Registry(
    (*_BEFORE, PROBED_PHASE_4),
    Entrypoints(cli_module="tests.phase4_draft", app_factory="tests.phase4_draft:create_app"))


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    composed = DRAFT_REGISTRY.composition(settings.phase)
    app = build_app(bootstrap(settings, composed))
    # The rate limiter, innermost as a Phase.middleware will be, until the app mounts those.
    if "auth" in composed.features and RateLimitMiddleware not in getattr(
            composed, "middleware", ()):
        app.user_middleware.append(Middleware(RateLimitMiddleware))
    return app


if __name__ == "__main__":
    run(DRAFT_REGISTRY)
