"""FastAPI dependencies: the verified caller, `require(permission)`, and the ownership check.

A later phase manifest applies `require(...)` to every route (the issue's OpenAPI test fails on a
route without one). Objects are checked with `owned_or_404`: an id of someone else's account or
transfer answers exactly what an id that does not exist answers, so an attacker cannot even
learn which ids exist (BOLA, OWASP API1), and a 403 would have told them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from fintech_core.auth.errors import Forbidden, Unauthenticated
from fintech_core.auth.principals import REACHES_ANY, Permission, Principal
from fintech_core.auth.runtime import AuthRuntime, auth_runtime
from fintech_core.domain.errors import NotFound


async def current_principal(request: Request,
                            runtime: Annotated[AuthRuntime, Depends(auth_runtime)]) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send Authorization: Bearer <access token>")
    return runtime.verifier.verify(token.strip())


def require(permission: Permission) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the verified principal, if one of its roles grants `permission`."""

    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.may(permission):
            raise Forbidden(f"your roles do not grant {permission.value}",
                            permission=permission.value)
        return principal

    dependency.required_permission = permission  # type: ignore[attr-defined]  # for the OpenAPI test
    return dependency


def owned_or_404(principal: Principal, permission: Permission, owner: str | None,
                 not_found: NotFound) -> None:
    """Pass if the object exists and the principal owns it or holds the "any" permission;
    otherwise raise `not_found`, the very error a missing id raises."""
    if owner is None:
        raise not_found
    if owner == principal.subject:
        return
    wider = REACHES_ANY.get(permission)
    if wider is not None and principal.may(wider):
        return
    raise not_found
