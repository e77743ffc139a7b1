"""The auth objects one API process needs (key ring, issuer, verifier, policies), built once per
app and kept on app.state.

Keys live in one file under the lab directory (mode 0600, written atomically), so every API
process of a lab signs and verifies with the same ring and a restart keeps tokens valid. The
first process to start creates it; a concurrent second one loses the rename race and reads the
winner's. (A production issuer keeps keys in a KMS/HSM; the file is the lab's stand-in.)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import Request

from fintech_core.auth.keys import KeyRing, SigningKey
from fintech_core.auth.refresh import RefreshPolicy
from fintech_core.auth.throttle import ThrottlePolicy
from fintech_core.auth.tokens import TokenIssuer, TokenPolicy, TokenVerifier, utcnow

ISSUER = "https://fintech-core-lab.local/auth"
AUDIENCE = "fintech-core-api"
PUBLISH_LEAD = timedelta(minutes=5)  # >= any verifier's JWKS cache lifetime


def save_ring(path: Path, ring: KeyRing, now: datetime) -> None:
    data = [{"kid": k.kid, "signs_from": k.signs_from.isoformat(), "pem": k.private_pem().decode()}
            for k in ring.published(now)]
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def load_or_create_ring(path: Path, policy: TokenPolicy, now: datetime) -> KeyRing:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        save_ring(path, KeyRing.started(now, policy.access_ttl, policy.leeway, PUBLISH_LEAD), now)
    data: list[dict[str, Any]] = json.loads(path.read_text())
    keys = [SigningKey.from_pem(d["kid"], d["pem"].encode(), datetime.fromisoformat(d["signs_from"]))
            for d in data]
    return KeyRing(policy.access_ttl, policy.leeway, PUBLISH_LEAD, keys)


@dataclass
class AuthRuntime:
    policy: TokenPolicy
    ring: KeyRing
    refresh: RefreshPolicy = field(default_factory=RefreshPolicy)
    throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)

    def __post_init__(self) -> None:
        self.issuer = TokenIssuer(self.policy, self.ring)
        self.verifier = TokenVerifier(self.policy, self.ring)

    @classmethod
    def for_lab(cls, lab_dir: Path, access_ttl: timedelta = timedelta(minutes=5),
                leeway: timedelta = timedelta(seconds=30)) -> AuthRuntime:
        policy = TokenPolicy(ISSUER, AUDIENCE, access_ttl=access_ttl, leeway=leeway)
        return cls(policy, load_or_create_ring(lab_dir / "auth" / "signing-keys.json", policy,
                                               utcnow()))


async def auth_runtime(request: Request) -> AuthRuntime:
    state = request.app.state
    runtime = getattr(state, "auth_runtime", None)
    if runtime is None:
        settings = state.container.settings
        runtime = AuthRuntime.for_lab(
            settings.lab_dir, timedelta(seconds=settings.auth_access_ttl_seconds),
            timedelta(seconds=settings.auth_clock_leeway_seconds))
        state.auth_runtime = runtime
    return runtime  # type: ignore[no-any-return]
