"""Password hashes with scrypt (hashlib, stdlib): memory-hard, so a stolen table is expensive to
guess through on GPUs.

Parameters (RFC 7914 §2; OWASP Password Storage Cheat Sheet): N = 2**15, r = 8, p = 1 costs
128 * r * N = 32 MiB and about 50-100 ms per hash on one core of the lab machine. OWASP's first
choice is N = 2**17 (128 MiB); we take 2**15 because a workshop laptop runs the whole stack and a
login storm must not swap it, and store the parameters in every hash so they can be raised later
(a hash with older parameters verifies, and is upgraded at the next successful login).

Stored form: "scrypt$<log2 N>$<r>$<p>$<salt, base64>$<key, base64>", salt 16 random bytes, key 32.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass


@dataclass(frozen=True)
class ScryptParams:
    log2_n: int = 15
    r: int = 8
    p: int = 1

    @property
    def maxmem(self) -> int:
        return 2 * 128 * self.r * (2 ** self.log2_n) * self.p  # twice the need: OpenSSL's margin


DEFAULT = ScryptParams()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _derive(password: str, salt: bytes, params: ScryptParams) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=2 ** params.log2_n, r=params.r,
                          p=params.p, maxmem=params.maxmem, dklen=32)


def hash_password(password: str, params: ScryptParams = DEFAULT) -> str:
    salt = secrets.token_bytes(16)
    key = _derive(password, salt, params)
    return f"scrypt${params.log2_n}${params.r}${params.p}${_b64(salt)}${_b64(key)}"


def _parse(stored: str) -> tuple[ScryptParams, bytes, bytes]:
    scheme, log2_n, r, p, salt, key = stored.split("$")
    if scheme != "scrypt":
        raise ValueError(f"not an scrypt hash: {scheme}")
    return (ScryptParams(int(log2_n), int(r), int(p)), base64.b64decode(salt),
            base64.b64decode(key))


def verify_password(password: str, stored: str) -> bool:
    params, salt, key = _parse(stored)
    return hmac.compare_digest(_derive(password, salt, params), key)


def needs_rehash(stored: str, params: ScryptParams = DEFAULT) -> bool:
    return _parse(stored)[0] != params


# Verified against when the user does not exist, so "no such user" takes as long as "wrong
# password" and login timing does not reveal which usernames exist.
_DUMMY = hash_password(secrets.token_urlsafe(16))


def burn_time(password: str) -> None:
    verify_password(password, _DUMMY)
