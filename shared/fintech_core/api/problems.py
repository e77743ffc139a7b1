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
        "A field is missing, has the wrong type, or is out of range; or a JSON member is "
        "repeated; or an amount is not a JSON integer of minor units (2500, never 2500.0 or "
        "2.5e3). `errors` lists each one, with its location."),
    "malformed-json": ProblemType(400, "The body is not valid JSON",
        "The request body could not be parsed as JSON (RFC 8259: NaN and Infinity are not "
        "JSON either)."),
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
    # --- phase 1: money and the ledger ------------------------------------------------------
    "invalid-amount": ProblemType(422, "Invalid amount",
        "The amount is not a plain decimal number in the currency's minor units."),
    "amount-too-precise": ProblemType(422, "More decimal places than the currency has",
        "An amount is never rounded silently: 10.005 EUR is refused, not turned into 10.00 or "
        "10.01. Send at most the currency's ISO 4217 exponent of decimal places."),
    "transfer-not-pending": ProblemType(409, "The transfer is not a pending hold",
        "Only a PENDING hold can be posted or voided; this one is already COMPLETED, VOIDED or "
        "EXPIRED (or FAILED). Nothing was changed."),
    "not-a-hold": ProblemType(409, "The transfer is not a two-phase transfer",
        "Post and void apply to holds (POST /holds). A completed transfer is corrected by a "
        "reversal instead."),
    "hold-expired": ProblemType(409, "The hold has expired",
        "The hold passed its expiry, so its funds are released and it can no longer be posted "
        "or voided. Nothing was changed."),
    "post-exceeds-hold": ProblemType(422, "Post amount exceeds the hold",
        "A hold can be posted for at most the amount it reserved. Nothing was changed."),
    "transfer-not-reversible": ProblemType(409, "The transfer cannot be reversed",
        "Only a COMPLETED transfer that is not itself a reversal can be reversed."),
    "transfer-already-reversed": ProblemType(409, "The transfer was already reversed",
        "A transfer is reversed at most once; `reversed_by` names the reversal."),
    "ledger-limit-exceeded": ProblemType(422, "A balance would leave the ledger's range",
        "The movement would take a balance beyond 2^63-1 minor units; nothing was changed."),
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
