"""What a rate-limited answer says: 429 problem+json with Retry-After, and the IETF
RateLimit-Policy / RateLimit fields (draft-ietf-httpapi-ratelimit-headers, structured fields):

    RateLimit-Policy: "per-principal";q=20;w=1
    RateLimit: "per-principal";r=7;t=1

q: the quota (requests per window), w: the window in seconds, r: what remains now, t: seconds
until the quota is fully available again. Sent on allowed answers too, so a client can pace
itself before it is refused.

When Redis is down (the decision, also in README.md): the limiter cannot count, so
- a request that moves money FAILS CLOSED: 503 `rate-limiter-unavailable` with Retry-After,
  nothing changed. An unlimited money path is exactly what the limiter exists to prevent (a
  burst of payouts, a card-testing run), and a client retrying with its Idempotency-Key loses
  nothing by waiting;
- a read FAILS OPEN: served without rate-limit fields. Reads move nothing; refusing every
  balance check because a cache is down turns a Redis outage into a full outage.
The amount limits do not depend on Redis at all (they are in PostgreSQL), so "how much" holds
either way; only "how fast" degrades, and only for reads.
"""

from __future__ import annotations

import math
from enum import StrEnum

from fastapi.responses import JSONResponse

from fintech_core.api.problems import problem_response
from fintech_core.limits.gcra import Decision, RatePolicy
from fintech_core.limits.problems import PROBLEMS


class RequestKind(StrEnum):
    MONEY_MOVE = "money-move"  # POST /transfers, deposits, withdrawals, payouts, holds...
    READ = "read"


def _seconds(value: float) -> int:
    return max(0, math.ceil(value))


def ratelimit_headers(policy: RatePolicy, decision: Decision) -> dict[str, str]:
    window = _seconds(policy.period.total_seconds())
    return {
        "RateLimit-Policy": f'"{policy.name}";q={policy.rate};w={window}',
        "RateLimit": f'"{policy.name}";r={decision.remaining};t={_seconds(decision.reset_s)}',
    }


def too_many_requests(policy: RatePolicy, decision: Decision, instance: str) -> JSONResponse:
    headers = {**ratelimit_headers(policy, decision),
               "Retry-After": str(decision.retry_after_header)}
    return problem_response(
        "rate-limited", f"more than {policy.rate} requests per {policy.period.total_seconds():g} s "
        f"(burst {policy.burst}); retry in {decision.retry_after_header} s", instance,
        headers=headers, types=PROBLEMS, policy=policy.name,
        retry_after=decision.retry_after_header)


def limiter_down(kind: RequestKind, instance: str) -> JSONResponse | None:
    """The answer when Redis cannot be reached: a 503 for a money move, None (serve it) for a
    read. See the module docstring for why."""
    if kind is RequestKind.READ:
        return None
    return problem_response("rate-limiter-unavailable", "the rate limiter cannot be reached; "
                            "nothing changed, retry with the same Idempotency-Key", instance,
                            headers={"Retry-After": "5"}, types=PROBLEMS)
