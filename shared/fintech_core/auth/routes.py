"""POST /auth/token and GET /.well-known/jwks.json (a router factory; phase 4's manifest mounts
it). The token endpoint follows RFC 6749 §5 in its answers (access_token, token_type, expires_in,
refresh_token) and takes its parameters in the standard form encoding (RFC 6749 §4,
`application/x-www-form-urlencoded`) or as JSON like every other route (token_body.py says how,
and why this one route is the exception to the API's JSON-only bodies). A service client may
also authenticate with HTTP Basic (RFC 6749 §2.3.1).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from fintech_core.api.deps import ContainerDep
from fintech_core.api.errors import problem_types
from fintech_core.api.problems import PROBLEM_JSON, problem_response
from fintech_core.auth import login
from fintech_core.auth import refresh as refresh_tokens
from fintech_core.auth.deps import public
from fintech_core.auth.errors import InvalidGrant, LoginThrottled, RefreshTokenReused, UnsupportedGrant
from fintech_core.auth.refresh import Identity, Refused
from fintech_core.auth.runtime import AuthRuntime, auth_runtime
from fintech_core.auth.sql import SqlAuth
from fintech_core.auth.token_body import REQUEST_BODY_DOC, read_token_request
from fintech_core.auth.tokens import utcnow
from fintech_core.domain.errors import DomainError


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    refresh_token: str | None = None


def _refused(refused: Refused) -> DomainError:
    if refused.reason == "reused":
        return RefreshTokenReused("this refresh token was already used; the session is revoked")
    return InvalidGrant("the refresh token is unknown, expired or revoked")


def router() -> APIRouter:
    r = APIRouter(tags=["auth"], dependencies=[Depends(public(
        "where a caller gets its credentials, and the keys that check them"))])

    @r.get("/.well-known/jwks.json", summary="The public keys that verify our access tokens")
    async def jwks(runtime: Annotated[AuthRuntime, Depends(auth_runtime)]) -> JSONResponse:
        return JSONResponse(runtime.ring.jwks(utcnow()),
                            headers={"Cache-Control": "public, max-age=300"})

    @r.post("/auth/token", response_model=TokenResponse, summary="Get an access token",
            openapi_extra={"requestBody": REQUEST_BODY_DOC},
            responses={422: {"description": "Validation error: problem details (RFC 9457)",
                             "content": {PROBLEM_JSON: {"schema": {
                                 "$ref": "#/components/schemas/Problem"}}}}})
    async def token(request: Request, c: ContainerDep,
                    runtime: Annotated[AuthRuntime, Depends(auth_runtime)]) -> JSONResponse:
        body = await read_token_request(request)
        if isinstance(body, JSONResponse):
            return body  # 415: neither form nor JSON
        now = utcnow()
        ip = request.client.host if request.client else "unknown"
        refresh: str | None = None
        async with c.uow_factory() as uow:
            auth: SqlAuth = uow.extension("auth")
            outcome: Identity | DomainError
            if body.grant_type == "password" and body.username and body.password:
                outcome = await login.password_grant(auth, body.username, body.password, ip,
                                                     runtime.throttle, now)
                if isinstance(outcome, Identity):
                    refresh, _ = await refresh_tokens.start(auth, outcome, runtime.refresh, now)
            elif body.grant_type == "client_credentials" and body.client_id and body.client_secret:
                outcome = await login.client_credentials(auth, body.client_id, body.client_secret)
            elif body.grant_type == "refresh_token" and body.refresh_token:
                rotated = await refresh_tokens.exchange(auth, body.refresh_token, runtime.refresh,
                                                        now)
                if isinstance(rotated, Refused):
                    outcome = _refused(rotated)
                else:
                    outcome, refresh = rotated.identity, rotated.refresh_token
            else:
                outcome = UnsupportedGrant(f"{body.grant_type} needs its own fields")
            await uow.commit()  # failure counters and a revoked family stick, even on an error
        if isinstance(outcome, LoginThrottled):
            return problem_response(outcome.code, outcome.detail, request.url.path,
                                    headers={"Retry-After": str(outcome.retry_after)},
                                    types=problem_types(request), **outcome.extra)
        if isinstance(outcome, DomainError):
            raise outcome
        access = runtime.issuer.issue(outcome.subject, outcome.roles, outcome.client)
        body_out = TokenResponse(access_token=access, refresh_token=refresh,
                                 expires_in=int(runtime.policy.access_ttl.total_seconds()))
        return JSONResponse(body_out.model_dump(exclude_none=True),
                            headers={"Cache-Control": "no-store"})  # RFC 6749 §5.1

    return r
