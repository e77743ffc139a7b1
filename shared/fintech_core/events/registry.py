"""The consumers phase 2 runs, listed explicitly (no discovery)."""

from __future__ import annotations

from fintech_core.events.consumer import Handler
from fintech_core.events.handlers import ActivityProjection, AuditTrail

CONSUMERS: tuple[Handler, ...] = (ActivityProjection(), AuditTrail())
CONSUMER_NAMES: tuple[str, ...] = tuple(c.name for c in CONSUMERS)


def handler(name: str) -> Handler:
    for c in CONSUMERS:
        if c.name == name:
            return c
    raise ValueError(f"no consumer named {name!r}; consumers: {', '.join(CONSUMER_NAMES)}")
