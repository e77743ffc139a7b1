"""The Idempotency-Key problems: missing, malformed, reused for another request, in flight."""

from __future__ import annotations

from fintech_core.api.problems import ProblemType

PROBLEMS: dict[str, ProblemType] = {
    "idempotency-key-missing": ProblemType(400, "Idempotency-Key header required",
        "Requests that move money need an Idempotency-Key header, minted once by the client "
        "before the first attempt and reused on every retry."),
    "idempotency-key-malformed": ProblemType(400, "Idempotency-Key header malformed",
        "The key must be 1-255 characters from a safe ASCII set (a UUID is ideal)."),
    "idempotency-key-reused": ProblemType(422, "Idempotency-Key reused for another request",
        "The key was already used with a different method, path, caller or body."),
    "idempotency-key-in-flight": ProblemType(409, "A request with this key is in progress",
        "Another request with the same key is being processed; retry after a short wait."),
}
