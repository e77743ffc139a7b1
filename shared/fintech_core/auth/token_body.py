"""The parameters of POST /auth/token, from a form or a JSON body.

Why this route reads its own body: RFC 6749 §4 defines the token request as
`application/x-www-form-urlencoded`, and every OAuth client library sends it so; the rest of the
API takes JSON only (api/json_body.py's `JsonBodyRoute` answers 415 to a form). The endpoint
declares no body parameter, so no route class parses one for it (JsonBodyRoute passes a route
without a body field through untouched, whichever router it is mounted on), and reads it here:
- `application/x-www-form-urlencoded`: UTF-8, each parameter at most once (RFC 6749 §3.2: "MUST
  NOT be included more than once"); a repeated one is a 422 naming it, never the first or the last;
- JSON (application/json, application/*+json): parsed by json_body.loads, as strictly as every
  other body (a repeated member is refused the same way; NaN is malformed JSON);
- anything else: 415 `unsupported-media-type`, `Accept-Post` naming both.
A service client may put its credentials in `Authorization: Basic` instead (RFC 6749 §2.3.1,
each part form-urlencoded before base64); sending them both ways is refused (§2.3: one method).
Whatever the encoding, the parameters are then validated by one model, `TokenRequest`.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, unquote_plus

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from fintech_core.api.errors import problem_types
from fintech_core.api.json_body import Repeated, is_json, loads
from fintech_core.api.problems import problem_response

FORM = "application/x-www-form-urlencoded"
ACCEPT = f"{FORM}, application/json"

Text = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[^\x00]*$")]


class TokenRequest(BaseModel):
    grant_type: Literal["password", "client_credentials", "refresh_token"]
    username: Text | None = None
    password: Text | None = None
    client_id: Text | None = None
    client_secret: Text | None = None
    refresh_token: Text | None = None


_SCHEMA = TokenRequest.model_json_schema()
REQUEST_BODY_DOC: dict[str, Any] = {
    "required": True,
    "content": {FORM: {"schema": _SCHEMA}, "application/json": {"schema": _SCHEMA}},
}


def _invalid(loc: tuple[str, ...], msg: str, kind: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", *loc), "msg": msg, "type": kind}])


def _form(raw: bytes) -> dict[str, Any]:
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise _invalid((), "the form is not UTF-8 application/x-www-form-urlencoded",
                       "form_invalid") from exc
    params: dict[str, Any] = {}
    for name, value in pairs:
        if name in params:
            raise _invalid((name,), "sent more than once (RFC 6749 §3.2)", "repeated")
        params[name] = value
    return params


def _json(raw: bytes) -> dict[str, Any]:
    try:
        data = loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise _invalid((), "the body is not valid JSON", "json_invalid") from exc
    if not isinstance(data, dict):
        raise _invalid((), "the body must be a JSON object", "model_type")
    for name, value in data.items():
        if isinstance(value, Repeated):
            raise _invalid((name,), "the member appears more than once", "repeated")
    return data


def _basic(header: str) -> tuple[str, str] | None:
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise _invalid(("client_id",), "Authorization: Basic is not base64 of id:secret",
                       "basic_invalid") from exc
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise _invalid(("client_id",), "Authorization: Basic is not base64 of id:secret",
                       "basic_invalid")
    return unquote_plus(client_id), unquote_plus(secret)


async def read_token_request(request: Request) -> TokenRequest | JSONResponse:
    """The validated parameters, or the 415 answer; raises RequestValidationError (a 422, or
    400 `malformed-json`) for a body that is not acceptable."""
    content_type = request.headers.get("content-type")
    raw = await request.body()
    media = (content_type or "").split(";")[0].strip().lower()
    if media == FORM:
        params = _form(raw)
    elif is_json(content_type):
        params = _json(raw)
    elif not content_type and not raw:
        params = {}  # no body: validation reports what is missing
    else:
        return problem_response("unsupported-media-type", f"send the token request as {FORM} "
                                "(RFC 6749) or as JSON; nothing was changed", request.url.path,
                                headers={"Accept-Post": ACCEPT}, types=problem_types(request))
    basic = _basic(request.headers.get("authorization", ""))
    if basic is not None:
        if "client_id" in params or "client_secret" in params:
            raise _invalid(("client_id",), "client credentials sent both in Authorization and "
                           "in the body (RFC 6749 §2.3: use one method)", "ambiguous_client")
        params["client_id"], params["client_secret"] = basic
    try:
        return TokenRequest.model_validate(params)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])}
                                      for e in exc.errors()]) from exc
