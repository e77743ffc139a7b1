"""RFC 9457 problem details: every error the API returns, with a stable `type` per code.

`type` is a relative URI (`/problems/<code>`) that the API itself serves, so a reader who meets an
unknown error can follow it to a description. Clients and tests match on `code`, never on prose.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi.responses import JSONResponse

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class ProblemType:
    status: int
    title: str
    description: str


# The HTTP layer's own problems. Each slice declares its own (accounts/problems.py, ...) and a
# phase lists them; the composed catalog is what the API serves and answers with.
CORE_PROBLEMS: dict[str, ProblemType] = {
    "validation-error": ProblemType(422, "The request body or parameters are invalid",
        "A field is missing, has the wrong type, or is out of range; or a JSON member is "
        "repeated; or an amount is not a JSON integer of minor units (2500, never 2500.0 or "
        "2.5e3). `errors` lists each one, with its location."),
    "malformed-json": ProblemType(400, "The body is not valid JSON",
        "The request body could not be parsed as JSON (RFC 8259: NaN and Infinity are not "
        "JSON either)."),
    "not-found": ProblemType(404, "Not found", "No resource at this path."),
    "method-not-allowed": ProblemType(405, "Method not allowed", "This path does not accept it."),
    "payload-too-large": ProblemType(413, "Request body too large",
        "Request bodies are capped at 64 KiB; no request of this API needs more."),
    "unsupported-media-type": ProblemType(415, "The body must be JSON",
        "Request bodies are JSON only: send them with `Content-Type: application/json` (the "
        "`Accept-Post` header of the answer says so). A text/plain or form body, or a body "
        "without a Content-Type, is refused before anything is read from it."),
    "headers-too-large": ProblemType(431, "Request headers too large",
        "Request headers are capped at 16 KiB in total."),
    "service-unavailable": ProblemType(503, "A backing service is unavailable",
        "The database could not be reached; nothing was changed. Retry with the same key."),
    "internal-error": ProblemType(500, "Internal error",
        "An unexpected error. If it happened before the commit nothing changed; if after, the "
        "work is committed. Either way, retrying with the same Idempotency-Key is safe: it runs "
        "the request once or replays its first response. `correlation_id` names the logged "
        "error: quote it when you report the problem."),
}


def problem_body(code: str, detail: str | None = None, instance: str | None = None, *,
                 types: Mapping[str, ProblemType] = CORE_PROBLEMS, **extra: Any) -> dict[str, Any]:
    ptype = types[code]
    body: dict[str, Any] = {"type": f"/problems/{code}", "title": ptype.title,
                            "status": ptype.status, "code": code}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def problem_response(code: str, detail: str | None = None, instance: str | None = None,
                     headers: dict[str, str] | None = None, *,
                     types: Mapping[str, ProblemType] = CORE_PROBLEMS,
                     **extra: Any) -> JSONResponse:
    body = problem_body(code, detail, instance, types=types, **extra)
    return JSONResponse(body, status_code=body["status"], media_type=PROBLEM_JSON,
                        headers=headers)
