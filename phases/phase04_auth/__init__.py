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
- cli: `fcl auth seed | users | token`.
Built and tested, to declare once the core's Phase has the fields (the commented block below):
the JWT identity, the lab-driver client auth, the seeder, the rate-limit middleware.
Not declared yet: `require(...)` on every earlier route, principals in place of X-Client-Id,
drills, lab 5, notebook, chaos and bench changes.
"""

from pathlib import Path

from fintech_core.auth import routes as auth_routes
from fintech_core.auth.cli import app as auth_cli
from fintech_core.auth.problems import PROBLEMS as AUTH_PROBLEMS
from fintech_core.auth.sql import SqlAuth
from fintech_core.limits import amounts
from fintech_core.limits.problems import PROBLEMS as LIMITS_PROBLEMS
from fintech_core.phase import CliEntry, Phase

PHASE = Phase(
    number=4,
    slug="auth",
    title="Auth & limits: tokens, roles, ownership, rate and amount limits",
    folder=Path(__file__).resolve().parent,
    routers=(auth_routes.router,),
    transfer_steps=amounts.TRANSFER_STEPS,
    extensions={"auth": SqlAuth, amounts.EXTENSION: amounts.SqlAmountLimits},
    features=frozenset({"auth", "jwt", "refresh-rotation", "login-throttle", "amount-limits"}),
    problems={**AUTH_PROBLEMS, **LIMITS_PROBLEMS},
    cli=(CliEntry("auth", auth_cli),),
    # Once phase.py has these fields (the lead's p4-core branch), declare, importing
    # jwt_identity (auth/jwt_identity.py), lab_client_auth (auth/client.py),
    # seed_lab_identities (auth/seed.py) and RateLimitMiddleware (limits/middleware.py):
    # identity=jwt_identity,
    # client_auth=lab_client_auth,
    # seeders=(seed_lab_identities,),
    # middleware=(RateLimitMiddleware,),
)
