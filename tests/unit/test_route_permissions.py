"""Every route says who may call it: `require(permission)` or `public(why)` (auth/deps.py).

Walks the app of every composition, with the drills' naive baseline and fault routes mounted too,
so a route added by any phase without a declaration fails here, before it can ship open.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from fintech_core.api.app import build_app
from fintech_core.auth.deps import api_routes, route_access
from fintech_core.auth.principals import Permission
from fintech_core.bootstrap import bootstrap
from fintech_core.settings import Settings
from phases import composition, latest


def app_of(phase: int) -> FastAPI:
    settings = Settings(phase=phase, naive_baseline=True, drill_mode=True)
    return build_app(bootstrap(settings, composition(phase), uow_factory=object()))  # type: ignore[arg-type]


@pytest.mark.parametrize("phase", range(latest() + 1))
def test_every_route_declares_a_permission_or_why_it_is_public(phase: int) -> None:
    routes = api_routes(app_of(phase))
    undeclared = [f"{sorted(m)} {p}" for p, m, r in routes if route_access(r) is None]
    assert not undeclared, f"routes with neither require(...) nor public(...): {undeclared}"
    assert len(routes) > 5  # the walk found the app's routes, not nothing


@pytest.mark.parametrize("phase", range(latest() + 1))
def test_every_route_that_moves_money_requires_a_permission(phase: int) -> None:
    """A route taking an Idempotency-Key moves money (or opens an account): never public,
    except the naive baseline, which exists to show what that costs."""
    spec = app_of(phase).openapi()
    app = app_of(phase)
    guarded = {(p, m.lower()) for p, methods, r in api_routes(app)
               if isinstance(route_access(r), Permission) for m in methods}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            names = {p["name"] for p in operation.get("parameters", [])}
            if "Idempotency-Key" in names and not path.startswith("/naive/"):
                assert (path, method) in guarded, f"{method.upper()} {path} is public"


def test_the_openapi_documents_the_identity_the_composition_uses() -> None:
    """Self-declared (X-Client-Id) until a phase declares a verifying identity; then a bearer
    security scheme on every guarded route, and no X-Client-Id anywhere."""
    app = app_of(latest())
    spec = app.openapi()
    params = {p["name"] for ops in spec["paths"].values() for op in ops.values()
              for p in op.get("parameters", [])}
    if app.state.identity.self_declared:
        assert "X-Client-Id" in params
        assert "securitySchemes" not in spec.get("components", {})
    else:
        assert "X-Client-Id" not in params
        assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
        transfers = spec["paths"]["/transfers"]["post"]
        assert transfers["security"] == [{"bearer": []}]
        assert "transfers:create:own" in transfers["description"]
        assert "security" not in spec["paths"]["/health"]["get"]
