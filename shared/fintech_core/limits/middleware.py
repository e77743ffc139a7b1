"""Rate limiting on the request path: a pure ASGI middleware (a `Phase.middleware` entry) that
spends one GCRA allowance (gcra.py, one Lua call in Redis) per request, before routing.

Whose allowance (the bucket):
- a request whose bearer token *verifies* spends its principal's: `per-service` for a machine
  client (client_credentials), `per-user` for a person (password or external OIDC token);
- any other request (no token, a refused token, the token endpoint itself) spends its client
  address's: `per-ip`.
Why verify here rather than key on the token's unverified `sub` (cheaper, no signature check):
an unverified claim would let anyone drain someone else's bucket by sending tokens that merely
*say* `sub: alice` (a denial of service on alice for the price of a string), or mint a fresh
bucket per request by varying it. So the middleware asks the app's Identity (the same one the
routes' `require` uses: `app.state.identity`, else phase 4's JwtIdentity), and a verified token is
verified once per request: JwtIdentity keeps the Principal in the request's state for the route
(measured: ~150 µs of CPU per verification, limits/README.md). A token that fails
verification grants nothing and picks no bucket: it is counted against its address, and the
route answers it 401.
Why authenticated requests do not *also* spend the address's allowance: many people share an
address (an office NAT, a mobile carrier, the lab's 127.0.0.1 where bench, chaos and the
notebooks all run), so an address limit low enough to stop an anonymous flood would refuse
legitimate users behind it; a verified principal is accountable and has its own bucket. The
address is the socket's peer (`scope["client"]`); behind a reverse proxy run uvicorn with
--proxy-headers and --forwarded-allow-ips set to the proxy, never trust X-Forwarded-For blindly.

Answers: a refused request gets 429 problem+json `rate-limited` with Retry-After and the
RateLimit-Policy / RateLimit fields (headers.py); an allowed one carries the two fields too.
/health and /ready are never limited (an orchestrator's probes must not be refused under load), nor
the naive baseline's /naive/ routes when it is mounted (drills: it is the system before this).

When Redis cannot be reached (the decision in README.md and headers.py): POST, PUT, PATCH and
DELETE fail closed (503 `rate-limiter-unavailable`, nothing changed), except POST /auth/token,
which moves no money and has its own throttle in PostgreSQL (auth/throttle.py; refusing it
would stop every client from renewing its token for the length of the outage); GET, HEAD and
OPTIONS fail open, without RateLimit fields. An outage is remembered for `DOWN_FOR_S`, so
requests in it answer at once instead of each waiting for Redis's timeout; the first request
after it tries Redis again.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fintech_core.auth.principals import ClientKind, Principal
from fintech_core.domain.errors import DomainError
from fintech_core.limits.gcra import Decision, GcraLimiter, RatePolicy
from fintech_core.limits.headers import (
    RequestKind,
    limiter_down,
    ratelimit_headers,
    too_many_requests,
)
from fintech_core.limits.redis_client import limiter_redis
from fintech_core.settings import Settings

log = logging.getLogger("fintech_core.limits")

EXEMPT_PATHS = frozenset({"/health", "/ready"})
NAIVE_PREFIX = "/naive/"  # the drills' broken baseline: see _naive
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FAIL_OPEN_WRITES = frozenset({"/auth/token"})  # see the module docstring
DOWN_FOR_S = 1.0
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9._@:/|-]{1,100}$")
_LIMITED_KINDS = frozenset({ClientKind.USER, ClientKind.SERVICE, ClientKind.EXTERNAL})


@dataclass(frozen=True)
class RatePolicies:
    user: RatePolicy
    service: RatePolicy
    ip: RatePolicy

    @classmethod
    def from_settings(cls, s: Settings) -> RatePolicies:
        second = timedelta(seconds=1)
        return cls(RatePolicy("per-user", s.rate_limit_user_per_second, second,
                              s.rate_limit_user_burst),
                   RatePolicy("per-service", s.rate_limit_service_per_second, second,
                              s.rate_limit_service_burst),
                   RatePolicy("per-ip", s.rate_limit_ip_per_second, second,
                              s.rate_limit_ip_burst))


def request_kind(method: str, path: str) -> RequestKind:
    if method.upper() in UNSAFE_METHODS and path not in FAIL_OPEN_WRITES:
        return RequestKind.MONEY_MOVE
    return RequestKind.READ


def bucket_key(who: str) -> str:
    """`who` as a Redis key part: itself when short and plain, else a hash (bounded keys)."""
    if _PLAIN_KEY.match(who):
        return who
    return "h:" + hashlib.sha256(who.encode()).hexdigest()[:32]


@dataclass
class LimiterState:
    """One app's limiter: its Redis client, policies and outage memory (app.state.rate_limiter)."""

    redis: aioredis.Redis
    limiter: GcraLimiter
    policies: RatePolicies
    identity: Any
    down_until: float = 0.0
    outages: int = field(default=0)  # how many times Redis was found down (tests, logs)

    async def aclose(self) -> None:
        await self.redis.aclose()


def _identity_of(app: Any) -> Any:
    declared = getattr(app.state, "identity", None)
    if declared is not None:
        return declared
    from fintech_core.auth.jwt_identity import jwt_identity  # phase 4's, until the app sets one

    return jwt_identity(app.state.container)


def _naive(scope: Scope) -> bool:
    """A route of the naive baseline (/naive/..., mounted only for drills): it is the system
    *before* this limiter, and the limit drills play a burst and a Redis outage against it; limited
    here, it would answer with this phase's 429 and 503 and the drills would compare the phase
    with itself."""
    return (scope["path"].startswith(NAIVE_PREFIX)
            and scope["app"].state.container.settings.naive_baseline)


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def state(self, app: Any) -> LimiterState:
        current: LimiterState | None = getattr(app.state, "rate_limiter", None)
        if current is None:
            settings: Settings = app.state.container.settings
            client = limiter_redis(settings)
            # Keys per database: two labs (or test suites) sharing a Redis have different users
            # named alice, and must not share her bucket.
            limiter = GcraLimiter(client, prefix=f"fcl:rl:{settings.database_name()}")
            current = LimiterState(client, limiter, RatePolicies.from_settings(settings),
                                   _identity_of(app))
            app.state.rate_limiter = current
        return current

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, self._closing(scope, receive), send)
            return
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS or _naive(scope):
            await self.app(scope, receive, send)
            return
        state = self.state(scope["app"])
        principal = await self._principal(scope, state)
        policy, who = self._bucket(scope, state.policies, principal)
        decision = await self._check(state, policy, who)
        if decision is None:  # Redis is down
            refusal = limiter_down(request_kind(scope["method"], scope["path"]), scope["path"])
            if refusal is not None:
                await refusal(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        if not decision.allowed:
            await too_many_requests(policy, decision, scope["path"])(scope, receive, send)
            return
        headers = ratelimit_headers(policy, decision)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                fields = MutableHeaders(scope=message)
                for name, value in headers.items():
                    fields[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _closing(self, scope: Scope, receive: Receive) -> Receive:
        async def wrapped() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                current = getattr(scope["app"].state, "rate_limiter", None)
                if current is not None:
                    await current.aclose()
            return message

        return wrapped

    async def _principal(self, scope: Scope, state: LimiterState) -> Principal | None:
        connection = HTTPConnection(scope)
        if "authorization" not in connection.headers:
            return None
        try:
            principal: Principal = await state.identity.authenticate(connection)
        except DomainError:
            return None  # refused: grants nothing, picks no bucket; the route answers 401
        # Only a verified identity picks its own bucket (a self-declared one never does).
        return principal if principal.client in _LIMITED_KINDS else None

    @staticmethod
    def _bucket(scope: Scope, policies: RatePolicies,
                principal: Principal | None) -> tuple[RatePolicy, str]:
        if principal is None:
            client = scope.get("client")
            return policies.ip, bucket_key(client[0] if client else "unknown")
        policy = policies.service if principal.client is ClientKind.SERVICE else policies.user
        return policy, bucket_key(principal.subject)

    @staticmethod
    async def _check(state: LimiterState, policy: RatePolicy, who: str) -> Decision | None:
        if time.monotonic() < state.down_until:
            return None
        try:
            return await state.limiter.check(policy, who)
        except (RedisError, OSError, TimeoutError) as exc:
            state.down_until = time.monotonic() + DOWN_FOR_S
            state.outages += 1
            log.warning("rate limiter: Redis unavailable (%r); writes fail closed, reads open, "
                        "for %.1f s before the next try", exc, DOWN_FOR_S)
            return None
