"""RFC 9457 problem details: every error the API returns, with a stable `type` per code.

`type` is a relative URI (`/problems/<code>`) that the API itself serves, so a reader who meets an
unknown error can follow it to a description. Clients and tests match on `code`, never on prose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.responses import JSONResponse

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class ProblemType:
    status: int
    title: str
    description: str


PROBLEM_TYPES: dict[str, ProblemType] = {
    "validation-error": ProblemType(422, "The request body or parameters are invalid",
        "A field is missing, has the wrong type, or is out of range. `errors` lists each one."),
    "malformed-json": ProblemType(400, "The body is not valid JSON",
        "The request body could not be parsed as JSON."),
    "idempotency-key-missing": ProblemType(400, "Idempotency-Key header required",
        "Requests that move money need an Idempotency-Key header, minted once by the client "
        "before the first attempt and reused on every retry."),
    "idempotency-key-malformed": ProblemType(400, "Idempotency-Key header malformed",
        "The key must be 1-255 characters from a safe ASCII set (a UUID is ideal)."),
    "idempotency-key-reused": ProblemType(422, "Idempotency-Key reused for another request",
        "The key was already used with a different method, path, caller or body."),
    "idempotency-key-in-flight": ProblemType(409, "A request with this key is in progress",
        "Another request with the same key is being processed; retry after a short wait."),
    "account-not-found": ProblemType(404, "Account not found", "No account has this id."),
    "transfer-not-found": ProblemType(404, "Transfer not found", "No transfer has this id."),
    "same-account": ProblemType(422, "Source and destination are the same account",
        "A transfer must move money between two different accounts."),
    "currency-mismatch": ProblemType(422, "Currency does not match the account",
        "The transfer currency must equal the currency of every account involved."),
    "unknown-currency": ProblemType(422, "Unknown currency",
        "The currency is not in the lab's ISO 4217 table."),
    "insufficient-funds": ProblemType(422, "Insufficient funds",
        "The source account's balance does not cover the amount. The attempt is recorded as a "
        "FAILED transfer and the response is replayed for the same Idempotency-Key."),
    "account-frozen": ProblemType(409, "Account is frozen",
        "A frozen account can neither send nor receive money until it is unfrozen."),
    "account-closed": ProblemType(409, "Account is closed", "A closed account is final."),
    "account-not-empty": ProblemType(409, "Account still holds money",
        "An account can be closed only at a zero balance."),
    "not-found": ProblemType(404, "Not found", "No resource at this path."),
    "method-not-allowed": ProblemType(405, "Method not allowed", "This path does not accept it."),
    "payload-too-large": ProblemType(413, "Request body too large",
        "Request bodies are capped at 64 KiB; no request of this API needs more."),
    "headers-too-large": ProblemType(431, "Request headers too large",
        "Request headers are capped at 16 KiB in total."),
    "service-unavailable": ProblemType(503, "A backing service is unavailable",
        "The database could not be reached; nothing was changed. Retry with the same key."),
    "internal-error": ProblemType(500, "Internal error",
        "An unexpected error. If it happened before the commit nothing changed; if after, the "
        "work is committed. Either way, retrying with the same Idempotency-Key is safe: it runs "
        "the request once or replays its first response."),
}


def problem_body(code: str, detail: str | None = None, instance: str | None = None,
                 **extra: Any) -> dict[str, Any]:
    ptype = PROBLEM_TYPES[code]
    body: dict[str, Any] = {"type": f"/problems/{code}", "title": ptype.title,
                            "status": ptype.status, "code": code}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def problem_response(code: str, detail: str | None = None, instance: str | None = None,
                     headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = problem_body(code, detail, instance, **extra)
    return JSONResponse(body, status_code=body["status"], media_type=PROBLEM_JSON,
                        headers=headers)
