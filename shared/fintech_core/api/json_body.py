"""How a request body becomes JSON: only from a JSON media type, and parsed strictly.

`JsonBodyRoute` is the route class of every router whose routes take a JSON body. Before any
parameter is read:
- a body sent as anything but JSON (text/plain, a form, or no Content-Type at all) is refused
  with 415 `unsupported-media-type` and `Accept-Post: application/json`; FastAPI would otherwise
  hand the raw bytes to validation and answer a puzzling 422;
- the body is parsed by `loads`: NaN and Infinity (not JSON, RFC 8259) are malformed JSON, and a
  member repeated in one object (`{"amount": 1, "amount": 900}`, which a plain parser resolves
  silently to the last) is kept as a `Repeated` value that `Strict` bodies refuse as a 422 naming
  the member. Refusing it in validation rather than here keeps the documented order: a missing or
  malformed Idempotency-Key (400) is reported before anything about the body.
Money amounts written with a fraction or an exponent are refused by the `MinorUnits` type
(schemas.py): JSON parsers give them as floats, whatever their value.
"""

from __future__ import annotations

import email.message
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response, params
from fastapi.routing import APIRoute

from fintech_core.api.problems import problem_response

ACCEPT_POST = "application/json"


@dataclass(frozen=True)
class Repeated:
    """The values of a member that appeared more than once in one JSON object."""

    values: tuple[Any, ...]


def _members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            seen = obj[key].values if isinstance(obj[key], Repeated) else (obj[key],)
            obj[key] = Repeated((*seen, value))
        else:
            obj[key] = value
    return obj


def _no_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not a JSON value", name, 0)


def loads(body: bytes) -> Any:
    return json.loads(body, object_pairs_hook=_members, parse_constant=_no_constant)


def is_json(content_type: str | None) -> bool:
    """The media types FastAPI itself parses as JSON: application/json and application/*+json."""
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json"))


class StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_strict_json"):
            self._strict_json = loads(await self.body())
        return self._strict_json


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class JsonBodyRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        field = self.body_field
        if field is None or isinstance(field.field_info, params.Form):
            return handler

        async def json_only(request: Request) -> Response:
            strict = StrictJsonRequest(request.scope, request.receive)
            content_type = strict.headers.get("content-type")
            # An empty body without a Content-Type is no body: an optional body stays absent,
            # a required one is reported missing by validation (422), as before.
            if not is_json(content_type) and (content_type or await strict.body()):
                return problem_response(
                    "unsupported-media-type", f"send the body as JSON, with Content-Type: "
                    f"{ACCEPT_POST}; nothing was changed", request.url.path,
                    headers={"Accept-Post": ACCEPT_POST})
            return await handler(strict)

        return json_only
