"""The OpenAPI document, made to say what the API really answers.

FastAPI documents every request-validation failure as a 422 `application/json`
`HTTPValidationError`; this API answers it as `application/problem+json` (errors.py). A client
generated from the document, or a fuzzer checking it, would be misled, so the schema is patched
once, when it is first built: each such 422 points at `Problem` instead. And every operation
that takes a body documents the 413 of the body-size cap (limits.py), which sits before routing,
and the 415 of a body that is not JSON (json_body.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from fintech_core.api.problems import PROBLEM_JSON
from fintech_core.auth.deps import api_routes, route_access
from fintech_core.auth.principals import Permission

_FASTAPI_422 = "#/components/schemas/HTTPValidationError"
_PROBLEM = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
_PROBLEM_422 = {"description": "Validation error: problem details (RFC 9457) with `errors`",
                "content": _PROBLEM}
_PROBLEM_413 = {"description": "Request body over the 64 KiB cap", "content": _PROBLEM}
_PROBLEM_415 = {"description": "The body is not sent as JSON (Content-Type)", "content": _PROBLEM}


def _patched(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.get("components", {}).get("schemas", {})
    if "Problem" not in components:  # a route set that declares no problem: nothing to point at
        return schema
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            ref = responses.get("422", {}).get("content", {}).get("application/json", {})
            if ref.get("schema", {}).get("$ref") == _FASTAPI_422:
                responses["422"] = _PROBLEM_422
            if "requestBody" in operation:
                responses.setdefault("413", _PROBLEM_413)
                responses.setdefault("415", _PROBLEM_415)
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


_PROBLEM_401 = {"description": "No valid access token (WWW-Authenticate says why)",
                "content": _PROBLEM}
_PROBLEM_403 = {"description": "Your roles do not grant this route's permission",
                "content": _PROBLEM}
_BEARER = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
           "description": "An access token from POST /auth/token (or a trusted OIDC provider)."}


def _with_bearer(schema: dict[str, Any], app: FastAPI) -> dict[str, Any]:
    """When the identity verifies tokens: every route that requires a permission says so (with
    the permission in its description), and X-Client-Id, which then means nothing, is gone."""
    needs: dict[tuple[str, str], str] = {}
    for path, methods, route in api_routes(app):
        access = route_access(route)
        if route.include_in_schema and isinstance(access, Permission):
            for method in methods:
                needs[(path, method.lower())] = access.value
    schema.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = _BEARER
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            operation["parameters"] = [p for p in operation.get("parameters", [])
                                       if p.get("name") != "X-Client-Id"]
            if not operation["parameters"]:
                del operation["parameters"]
            permission = needs.get((path, method))
            if permission:
                operation["security"] = [{"bearer": []}]
                responses = operation.setdefault("responses", {})
                responses.setdefault("401", _PROBLEM_401)
                responses.setdefault("403", _PROBLEM_403)
                operation["description"] = (operation.get("description", "")
                                            + f"\n\nRequires the permission `{permission}`.")
    return schema


def install(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = _patched(build())
            if not getattr(app.state.identity, "self_declared", False):
                schema = _with_bearer(schema, app)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
