"""Mount the composed phases' routers, letting a later phase replace a route it declares.

Why explicit: FastAPI serves the *first* route that matches but documents the *last*, so two
phases silently defining `GET /transfers/{transfer_id}` would serve one and document the other.
Here a clash is an error unless the later phase lists the route in `replaces_routes`; the
replacement then takes the earlier route's place, and only it is served and documented.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from fintech_core.phase import Composition


def route_keys(route: BaseRoute) -> list[str]:
    if not isinstance(route, APIRoute):
        return []
    return [f"{method} {route.path}" for method in sorted(route.methods or ())]


def composed_router(composition: Composition) -> APIRouter:
    routes: list[BaseRoute] = []
    where: dict[str, int] = {}
    replaced: set[str] = set()
    for make_router in composition.routers:
        for route in make_router().routes:
            keys = route_keys(route)
            clashes = [k for k in keys if k in where]
            for key in clashes:
                if key not in composition.replaced_routes:
                    raise ValueError(f"route {key!r} is defined twice; the later phase must list "
                                     f"it in replaces_routes")
                routes[where[key]] = route
                replaced.add(key)
            if not clashes:
                where.update({k: len(routes) for k in keys})
                routes.append(route)
    stale = composition.replaced_routes - replaced
    if stale:
        raise ValueError(f"replaces_routes names routes no earlier phase defines: {sorted(stale)}")
    router = APIRouter()
    router.routes.extend(routes)
    return router
