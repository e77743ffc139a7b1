"""Login throttling: brute force is slowed, and an attacker cannot lock a victim out.

Two counters of consecutive failures, each with an exponential backoff that is *capped*:
- per (account, client IP): after FREE failures, each further attempt from that IP for that
  account waits base * 2**(failures - FREE), at most `pair_cap` (15 min). This is the lockout.
- per client IP, all accounts together: catches one address spraying many accounts (credential
  stuffing), with a higher threshold and cap.
There is deliberately no lockout per account alone: that one counter is what an attacker
anywhere could fill to lock the real owner out, indefinitely, by retrying every cap. Here the
owner's attempts are judged only by the counters of the owner's own address, which only
failures from that address increment; an attacker elsewhere can lock only themselves.
(Distributed guessing against one account is slowed by the per-IP counters of every address
used and by the rate limiter; a shared NAT address is the known weak point, documented in the
phase README.) A success clears the (account, IP) counter; the IP counter is cleared only by
time (`forget_after` after its last failure), so one valid login of the attacker's own does not
reset their spraying.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Backoff:
    free: int  # failures allowed before any wait
    base: timedelta
    cap: timedelta

    def wait_after(self, failures: int) -> timedelta:
        if failures < self.free:
            return timedelta(0)
        exponent = min(failures - self.free, 30)  # 2**30 s is past any cap: no overflow
        return min(self.base * (2 ** exponent), self.cap)


@dataclass(frozen=True)
class ThrottlePolicy:
    pair: Backoff = Backoff(free=5, base=timedelta(seconds=1), cap=timedelta(minutes=15))
    ip: Backoff = Backoff(free=50, base=timedelta(seconds=1), cap=timedelta(hours=1))
    forget_after: timedelta = timedelta(hours=24)


@dataclass(frozen=True)
class FailureCount:
    failures: int
    last_failure_at: datetime


def retry_after(policy: Backoff, count: FailureCount | None, now: datetime,
                forget_after: timedelta) -> int:
    """Seconds until the next attempt is allowed (0: now), given the failures so far."""
    if count is None or now - count.last_failure_at >= forget_after:
        return 0
    until = count.last_failure_at + policy.wait_after(count.failures)
    return max(0, int((until - now).total_seconds() + 0.999))


def pair_key(account: str, ip: str) -> str:
    return f"{account}\x1f{ip}"  # unit separator: no username or address contains it
