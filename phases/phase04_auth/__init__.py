"""Phase 4 — Auth & limits (DRAFT: not yet in the registry, phases/__init__.py does not list it).

Registering it makes every earlier drill, notebook, lab, chaos and bench run need tokens; that
wiring is the next session's work (README.md, "In progress"). What this manifest declares so far:
- migrations: auth_users, auth_clients, refresh_families + refresh_tokens (rotation, reuse
  detection), login_failures (per (account, IP) and per IP), account_limits and
  account_daily_outgoing (the daily total, with a trigger that refuses going over the limit);
- routes: POST /auth/token (password, client_credentials, refresh_token grants) and
  GET /.well-known/jwks.json;
- transfer pipeline: `check_amount_limits` before `post_ledger`, `record_daily_outgoing` last;
- unit-of-work extensions "auth" (users, clients, refresh families, login failures) and
  "amount_limits";
- problems of the auth and limits slices (token-invalid, forbidden, rate-limited, ...).
Not declared yet: `require(...)` on every earlier route, principals in place of X-Client-Id, the
rate limiter on the request path, drills, lab 5, notebook, chaos and bench changes.
"""

from pathlib import Path

from fintech_core.auth import routes as auth_routes
from fintech_core.auth.problems import PROBLEMS as AUTH_PROBLEMS
from fintech_core.auth.sql import SqlAuth
from fintech_core.drills.scenarios.limits import (
    BURST_OVER_RATE_LIMIT,
    DAILY_LIMIT_RACE,
    REDIS_DOWN,
)
from fintech_core.limits import amounts
from fintech_core.limits.problems import PROBLEMS as LIMITS_PROBLEMS
from fintech_core.naive import limits as naive_limits
from fintech_core.phase import Phase

PHASE = Phase(
    number=4,
    slug="auth",
    title="Auth & limits: tokens, roles, ownership, rate and amount limits",
    folder=Path(__file__).resolve().parent,
    routers=(auth_routes.router,),
    # The drills' naive side: a fail-open fixed-window limiter and a read-then-check daily limit.
    naive_routers=(naive_limits.router,),
    transfer_steps=amounts.TRANSFER_STEPS,
    extensions={"auth": SqlAuth, amounts.EXTENSION: amounts.SqlAmountLimits},
    features=frozenset({"auth", "jwt", "refresh-rotation", "login-throttle", "amount-limits"}),
    problems={**AUTH_PROBLEMS, **LIMITS_PROBLEMS},
    drills=(
        BURST_OVER_RATE_LIMIT,  # a burst far over the rate limit: GCRA admits the allowance
        DAILY_LIMIT_RACE,       # N concurrent transfers, a daily limit that fits K: exactly K
        REDIS_DOWN,             # the limiter's store is down: money fails closed, reads open
    ),
)
