"""One signed S3 request (AWS Signature Version 4), enough to health-check the object store
without an SDK: HEAD of a bucket answers 200 only when the store runs, the credentials are
known to it and the bucket exists (403 or 404 otherwise)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def sigv4_headers(method: str, url: str, access_key: str, secret_key: str, region: str,
                  now: datetime | None = None) -> dict[str, str]:
    """Headers that sign a body-less request for service `s3` (path-style URL, no query)."""
    now = now or datetime.now(UTC)
    stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    parts = urlsplit(url)
    headers = {"host": parts.netloc, "x-amz-content-sha256": EMPTY_SHA256, "x-amz-date": stamp}
    signed = ";".join(sorted(headers))
    canonical = "\n".join([method, parts.path or "/", "",
                           *(f"{k}:{headers[k]}" for k in sorted(headers)), "", signed,
                           EMPTY_SHA256])
    scope = f"{day}/{region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret_key}".encode(), day), region), "s3"),
                "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
                                f"SignedHeaders={signed}, Signature={signature}")
    return headers


def head_bucket(endpoint: str, bucket: str, access_key: str, secret_key: str, region: str,
                timeout: float = 3.0) -> int:
    """The HTTP status of a signed HEAD /bucket, or 0 when the store does not answer."""
    url = f"{endpoint.rstrip('/')}/{bucket}"
    try:
        return httpx.head(url, headers=sigv4_headers("HEAD", url, access_key, secret_key, region),
                          timeout=timeout).status_code
    except httpx.HTTPError:
        return 0
