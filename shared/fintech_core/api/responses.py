"""Turning use-case results into stored (replayable) HTTP responses and back."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi.responses import JSONResponse

from fintech_core.api.problems import PROBLEM_JSON, ProblemType, problem_body
from fintech_core.api.schemas import TransferOut
from fintech_core.idempotency.ports import StoredResponse
from fintech_core.transfers.service import TransferOutcome

REPLAY_HEADER = "Idempotent-Replayed"


def transfer_response(outcome: TransferOutcome,
                      types: Mapping[str, ProblemType]) -> StoredResponse:
    t = outcome.transfer
    if outcome.rejection is None:
        return StoredResponse(201, TransferOut.of(t).model_dump(mode="json"),
                              {"Location": f"/transfers/{t.id}"})
    # A recorded rejection: the problem names the FAILED transfer, so a client that lost this
    # response and retries learns the same outcome and can GET the transfer.
    extra = {k: v for k, v in outcome.rejection.extra.items() if k != "transfer_id"}
    body = problem_body(outcome.rejection.code, outcome.rejection.detail,
                        types=types, transfer_id=str(t.id), **extra)
    return StoredResponse(body["status"], body, {"Location": f"/transfers/{t.id}"})


def to_http(response: StoredResponse, replayed: bool, instance: str) -> JSONResponse:
    """`instance` (the request path) is added on the way out, not stored: a recorded refusal is
    built where no request is in sight, and responses stored before it existed gain it too."""
    headers = dict(response.headers)
    if replayed:
        headers[REPLAY_HEADER] = "true"
    body = response.body
    problem = response.status >= 400
    if problem and "instance" not in body:
        body = {**body, "instance": instance}
    return JSONResponse(body, status_code=response.status, headers=headers,
                        media_type=PROBLEM_JSON if problem else "application/json")
