"""The grants of POST /auth/token: password (seeded users), client_credentials (service
clients), refresh_token. Each returns an outcome *and* leaves its writes (failure counters, a
revoked family) in the caller's transaction, which the caller commits before answering an error:
a failed login must be counted even though the request fails.

scrypt runs in a worker thread (to_thread): 50-100 ms of CPU must not stall the event loop that
serves every other request.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from fintech_core.auth import passwords
from fintech_core.auth.errors import InvalidClient, InvalidGrant, LoginThrottled
from fintech_core.auth.principals import ClientKind
from fintech_core.auth.refresh import Identity
from fintech_core.auth.sql import SqlAuth
from fintech_core.auth.throttle import ThrottlePolicy, pair_key, retry_after
from fintech_core.domain.errors import DomainError

Outcome = Identity | DomainError


async def password_grant(auth: SqlAuth, username: str, password: str, ip: str,
                         policy: ThrottlePolicy, now: datetime) -> Outcome:
    pair = pair_key(username, ip)
    wait = max(retry_after(policy.pair, await auth.failures("account_ip", pair), now,
                           policy.forget_after),
               retry_after(policy.ip, await auth.failures("ip", ip), now, policy.forget_after))
    if wait:
        # Not counted and the password is not checked: hammering during a lockout neither
        # extends it nor tests a guess, so the cap is the longest anyone waits.
        return LoginThrottled(f"too many failed logins; retry in {wait} s", retry_after=wait)
    user = await auth.user(username)
    if user is None:
        await asyncio.to_thread(passwords.burn_time, password)
        ok = False
    else:
        ok = await asyncio.to_thread(passwords.verify_password, password, user[0])
    if not ok or user is None:
        forget_before = now - policy.forget_after
        await auth.record_failure("account_ip", pair, now, forget_before)
        await auth.record_failure("ip", ip, now, forget_before)
        return InvalidGrant("wrong username or password")
    await auth.clear_failures("account_ip", pair)
    return Identity(username, user[1], ClientKind.USER)


async def client_credentials(auth: SqlAuth, client_id: str, secret: str) -> Outcome:
    client = await auth.client(client_id)
    if client is None:
        await asyncio.to_thread(passwords.burn_time, secret)
        return InvalidClient("unknown client or wrong secret")
    if not await asyncio.to_thread(passwords.verify_password, secret, client[0]):
        return InvalidClient("unknown client or wrong secret")
    return Identity(client_id, client[1], ClientKind.SERVICE)
