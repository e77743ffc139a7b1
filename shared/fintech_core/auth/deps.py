"""FastAPI dependencies: the caller, `require(permission)`, `public(why)`, and the ownership check.

Every route declares one of the two (tests/unit/test_route_permissions.py walks the app and fails
on a route with neither): `require(P.X)` asks the composition's Identity who is calling (phases
0..3: whoever X-Client-Id says, unrestricted; phase 4: a verified token) and refuses a role that
lacks X (BFLA, OWASP API5); `public("why")` says in the code why a route needs no caller (health,
the token endpoint, webhooks authenticated by their signature).

Objects are checked with `owned_or_404`: an id of someone else's account or transfer answers
exactly what an id that does not exist answers, so an attacker cannot even learn which ids exist
(BOLA, OWASP API1), and a 403 would have told them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from fintech_core.auth.errors import Forbidden
from fintech_core.auth.identity import CLIENT_ID_PATTERN
from fintech_core.auth.principals import REACHES_ANY, Permission, Principal
from fintech_core.domain.errors import NotFound


async def current_principal(
    request: Request,
    x_client_id: Annotated[str | None, Header(
        alias="X-Client-Id", pattern=CLIENT_ID_PATTERN,
        description="Phases 0-3 only: who is calling, self-declared (no auth yet). "
                    "Idempotency keys are scoped to it. Phase 4 ignores it: the caller is the "
                    "subject of the bearer token.")] = None,
) -> Principal:
    del x_client_id  # validated and documented here; the identity reads what it trusts
    return await request.app.state.identity.authenticate(request)  # type: ignore[no-any-return]


def require(permission: Permission) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the caller, if one of its roles grants `permission`."""

    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.may(permission):
            raise Forbidden(f"your roles do not grant {permission.value}",
                            permission=permission.value)
        return principal

    dependency.required_permission = permission  # type: ignore[attr-defined]
    return dependency


def public(why: str) -> Callable[[], Awaitable[None]]:
    """A dependency that marks a route as needing no caller, and says why."""

    async def dependency() -> None:
        return None

    dependency.public_because = why  # type: ignore[attr-defined]
    return dependency


def route_access(route: APIRoute) -> Permission | str | None:
    """What a route declared: its Permission, the reason it is public, or None (undeclared)."""

    def walk(dependant: Dependant) -> Permission | str | None:
        call: Any = dependant.call
        for attr in ("required_permission", "public_because"):
            if hasattr(call, attr):
                return getattr(call, attr)  # type: ignore[no-any-return]
        for sub in dependant.dependencies:
            found = walk(sub)
            if found is not None:
                return found
        return None

    return walk(route.dependant)


def owned_or_404(principal: Principal, permission: Permission, holder: str | None,
                 not_found: NotFound) -> None:
    """Pass if the principal holds the object (`holder` is its subject) or the "any" variant
    of `permission`; otherwise raise `not_found`, the very error a missing id raises."""
    wider = REACHES_ANY.get(permission)
    if wider is not None and principal.may(wider):
        return
    if holder is not None and holder == principal.subject:
        return
    raise not_found



def api_routes(app: Any) -> list[tuple[str, frozenset[str], APIRoute]]:
    """Every API route of an app as (path, methods, route), included routers flattened (FastAPI
    includes them lazily, so `app.routes` alone holds the routers, not their routes)."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            found.append((context.path_format or route.path_format,
                          frozenset(context.methods or route.methods or ()), route))
    return found
