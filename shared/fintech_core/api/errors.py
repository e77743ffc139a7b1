"""Exception handlers: every error leaves the API as application/problem+json."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException
from starlette.routing import Match

from fintech_core.api.problems import CORE_PROBLEMS, ProblemType, problem_response
from fintech_core.api.unhandled import internal_error
from fintech_core.domain.errors import (
    DomainError,
    IdempotencyKeyMalformed,
    IdempotencyKeyMissing,
)
from fintech_core.idempotency.key import KEY_RULE

log = logging.getLogger("fintech_core.api")

_IDEMPOTENCY_HEADER = "idempotency-key"
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _jsonable_errors(errors: Any) -> list[dict[str, Any]]:
    return [{"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", ""),
             "type": e.get("type", "")} for e in errors]


def problem_types(request: Request) -> Mapping[str, ProblemType]:
    """The composed catalog (core + every phase's problems), set by build_app."""
    return getattr(request.app.state, "problem_types", CORE_PROBLEMS)


async def on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    types = problem_types(request)
    if exc.code not in types:  # a code nobody registered is a bug, not a refusal
        return internal_error(request.method, request.url.path)
    # An error may name headers of its own (e.g. auth's WWW-Authenticate, RFC 6750 §3).
    headers = getattr(exc, "response_headers", None)
    return problem_response(exc.code, exc.detail, request.url.path, headers=headers, types=types,
                            **exc.extra)


async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    for e in errors:  # the key is checked first: without it, nothing else matters
        loc = [str(p).lower() for p in e.get("loc", ())]
        if loc[:2] == ["header", _IDEMPOTENCY_HEADER]:
            missing = e.get("type") == "missing"
            err = (IdempotencyKeyMissing if missing else IdempotencyKeyMalformed)(
                "send an Idempotency-Key header" if missing else KEY_RULE)
            return await on_domain_error(request, err)
    if any(e.get("type") == "json_invalid" for e in errors):
        return problem_response("malformed-json", "the body is not valid JSON", request.url.path)
    return problem_response("validation-error", "the request is invalid", request.url.path,
                            errors=_jsonable_errors(errors))


async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    # 400 from FastAPI itself means the body could not be parsed (e.g. nesting deep enough to
    # exhaust the JSON parser's recursion).
    by_status = {400: "malformed-json", 404: "not-found", 405: "method-not-allowed",
                 413: "payload-too-large"}
    code = by_status.get(exc.status_code)
    if code is None:
        code = "validation-error" if 400 <= exc.status_code < 500 else "internal-error"
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    # status= keeps the body's `status` equal to the HTTP status for the fallback codes too.
    return problem_response(code, str(exc.detail), request.url.path, headers=headers,
                            status=exc.status_code)


def _allowed_methods(request: Request) -> str:
    """RFC 9110 wants every method the resource supports in `Allow`. Starlette lists only those
    of the first route whose path matched, and GET and POST /accounts are two routes, so ask
    every route, through its public `matches`, which methods it would take here."""
    allowed = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return ", ".join(allowed)


async def on_database_down(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable: %s", exc)
    return problem_response("service-unavailable", "the database is unavailable; nothing changed",
                            request.url.path, headers={"Retry-After": "1"})


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(psycopg.OperationalError, on_database_down)
    app.add_exception_handler(PoolTimeout, on_database_down)
    # Any other exception: unhandled.UnhandledErrors, a middleware (see there why not here).
