"""Parsing and fingerprinting for the Idempotency-Key header (IETF httpapi draft).

The draft defines the header as a Structured Field string (`Idempotency-Key: "abc"`); most
clients send the bare token, so both are accepted. Anything else is malformed (400), because a
key we cannot read exactly cannot protect a retry.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from fintech_core.domain.errors import IdempotencyKeyMalformed, IdempotencyKeyMissing

MAX_KEY_LENGTH = 255
_CHARS = rf"[A-Za-z0-9_\-.:~+/=]{{1,{MAX_KEY_LENGTH}}}"
_TOKEN = re.compile(rf"^{_CHARS}$")
# What the OpenAPI documents for the header: the bare token or the sf-string form "token".
HEADER_PATTERN = rf'^({_CHARS}|"{_CHARS}")$'
KEY_RULE = f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} characters of A-Z a-z 0-9 _ - . : ~ + / ="


def parse_key(raw: str | None) -> str:
    if raw is None or raw.strip() == "":
        raise IdempotencyKeyMissing(
            "this request moves money: send an Idempotency-Key header (e.g. a UUID made once, "
            "before the first attempt, and reused on every retry)"
        )
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if not _TOKEN.fullmatch(value):
        raise IdempotencyKeyMalformed(KEY_RULE)
    return value


def fingerprint(method: str, path: str, body: Any, principal: str) -> str:
    """A stable hash of what the request asks for. JSON is canonicalised (sorted keys, no
    whitespace) so that the same request with its fields in another order is still the same."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256()
    for part in (method.upper(), path, principal, canonical):
        digest.update(part.encode())
        digest.update(b"\x00")
    return digest.hexdigest()
