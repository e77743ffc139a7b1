"""Phase 4 — Auth & limits: who may move this money, how fast, how much.

What this phase declares (the core stays the same code; these declarations change who it lets in):
- identity: `JwtIdentity` replaces the self-declared X-Client-Id. Every route already says which
  permission it needs (`require(...)`, auth/deps.py); from here a verified token answers who is
  calling, its roles grant the permission or not (401/403), and Idempotency-Keys are scoped to
  the token's subject;
- extension "access": accounts get a holder (the subject that opened them); a customer reaches
  only what they hold, anything else answers 404 exactly as a missing id (BOLA);
  a credit limit is admin-only and audited (mass assignment);
- routes: POST /auth/token (password, client_credentials, refresh_token with rotation and reuse
  detection), GET /.well-known/jwks.json, PUT /accounts/{id}/limits (admin, audited);
- transfer pipeline: `check_amount_limits` before `post_ledger`, `record_daily_outgoing` last:
  amount limits hold in the transfer's own transaction;
- middleware: the GCRA rate limiter in Redis (per principal, per client IP);
- seeders: the lab's users and clients, secrets in <lab_dir>/auth/seeded.json (0600);
- client_auth: how the lab's own tools (drills, chaos, bench, notebooks) get a token;
- CLI `fcl auth` (seed, users, token), lab 5, migrations p4_0001 (identities, refresh
  families, login failures, amount limits) and p4_0002 (holders, audit log).
"""

from pathlib import Path

from fintech_core.auth import routes as auth_routes
from fintech_core.auth.access import EXTENSION as ACCESS
from fintech_core.auth.access_sql import SqlAccess
from fintech_core.auth.cli import app as auth_cli
from fintech_core.auth.client import lab_client_auth
from fintech_core.auth.jwt_identity import jwt_identity
from fintech_core.auth.problems import PROBLEMS as AUTH_PROBLEMS
from fintech_core.auth.seed import seed_lab_identities
from fintech_core.auth.sql import SqlAuth
from fintech_core.drills.scenarios.auth import (
    BOLA,
    FORGED_TOKEN,
    REFRESH_REPLAY,
    SELF_ASSIGNED_CREDIT_LIMIT,
)
from fintech_core.drills.scenarios.limits import (
    BURST_OVER_RATE_LIMIT,
    DAILY_LIMIT_RACE,
    REDIS_DOWN,
)
from fintech_core.labs.registry import LabSpec
from fintech_core.limits import amounts
from fintech_core.limits import routes as limit_routes
from fintech_core.limits.middleware import RateLimitMiddleware
from fintech_core.limits.problems import PROBLEMS as LIMITS_PROBLEMS
from fintech_core.naive import auth as naive_auth
from fintech_core.naive import limits as naive_limits
from fintech_core.phase import CliEntry, Phase

PHASE = Phase(
    number=4,
    slug="auth",
    title="Auth & limits: tokens, roles, ownership, rate and amount limits",
    folder=Path(__file__).resolve().parent,
    routers=(auth_routes.router, limit_routes.router),
    identity=jwt_identity,
    client_auth=lab_client_auth,
    seeders=(seed_lab_identities,),
    middleware=(RateLimitMiddleware,),
    transfer_steps=amounts.TRANSFER_STEPS,
    extensions={"auth": SqlAuth, amounts.EXTENSION: amounts.SqlAmountLimits, ACCESS: SqlAccess},
    features=frozenset({"auth", "jwt", "refresh-rotation", "login-throttle", "amount-limits"}),
    problems={**AUTH_PROBLEMS, **LIMITS_PROBLEMS},
    # The drills' naive side. Attacker drills: a verifier that trusts the token's header, no
    # ownership check, the request body as the row, refresh tokens never retired. Limit drills:
    # a fail-open fixed-window limiter and a read-then-check daily limit.
    naive_routers=(naive_auth.router, naive_limits.router),
    drills=(
        BOLA,                        # 1. another customer's account: read and debit
        SELF_ASSIGNED_CREDIT_LIMIT,  # 2. mass assignment: credit_limit 2^53-1, then 10^12 out
        FORGED_TOKEN,                # 3. alg none, HS256 with the public key, expired, wrong aud
        REFRESH_REPLAY,              # 4. a rotated refresh token replayed: the family is revoked
        BURST_OVER_RATE_LIMIT,       # 5. a burst far over the rate limit: GCRA admits the allowance
        DAILY_LIMIT_RACE,            # 6. N concurrent transfers, a daily limit that fits K: exactly K
        REDIS_DOWN,                  # 7. the limiter's store is down: money fails closed, reads open
    ),
    cli=(CliEntry("auth", auth_cli),),
    labs=(LabSpec(5, "daily-limit", "Keep a daily limit when transfers run at the same time",
                  "lab05_daily_limit", "daily_limit.py", minutes=50),),
)
