"""The raw-socket load generator's requests: from phase 4 each carries the run's bearer token
(read from FCL_LOADGEN_TOKEN, never argv); without one, the bytes are exactly phase 0..3's."""

from __future__ import annotations

import random

from fintech_core.bench.loadgen import Workload

ACCOUNTS = ["a1", "a2", "a3"]


def _head(raw: bytes) -> list[str]:
    return raw.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")


def test_every_kind_of_request_carries_the_token() -> None:
    for kind in ("uniform", "hot", "mixed", "health"):
        w = Workload(kind, ACCOUNTS, token="tok.en.x")
        rng = random.Random(3)
        for _ in range(20):
            head = _head(w.request(rng, "h:1"))
            assert head.count("Authorization: Bearer tok.en.x") == 1, head


def test_without_a_token_no_authorization_header_is_sent() -> None:
    w = Workload("mixed", ACCOUNTS)
    rng = random.Random(3)
    for _ in range(20):
        raw = w.request(rng, "h:1")
        assert b"authorization" not in raw.lower()
        head, body = raw.split(b"\r\n\r\n", 1)
        if head.startswith(b"POST"):  # Content-Length still matches the body
            length = next(int(h.split(b":")[1]) for h in head.split(b"\r\n")
                          if h.lower().startswith(b"content-length"))
            assert length == len(body)
