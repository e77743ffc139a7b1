"""The simulator's errors: RFC 9457 problems with a stable code, like the lab's own API (a
client written for the lab reads both the same way)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

TITLES = {
    "unauthorized": (401, "Missing or wrong API key"),
    "idempotency-key-missing": (400, "Idempotency-Key header required on every POST"),
    "idempotency-key-reused": (409, "Idempotency-Key already used with a different request"),
    "not-found": (404, "No such object"),
    "invalid-request": (422, "The request body is not valid"),
    "refund-exceeds-charge": (422, "Refunds would exceed the charge amount"),
    "charge-not-refundable": (422, "Only a succeeded charge can be refunded"),
}


class Problem(Exception):
    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code, self.detail = code, detail


def problem_body(code: str, detail: str) -> tuple[int, dict[str, object]]:
    status, title = TITLES[code]
    return status, {"type": f"https://provider-sim.invalid/problems/{code}", "title": title,
                    "status": status, "code": code, "detail": detail}


def problem_response(code: str, detail: str = "") -> JSONResponse:
    status, body = problem_body(code, detail)
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def on_problem(_: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.code, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return problem_response("invalid-request", detail)
