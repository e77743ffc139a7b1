"""The personalities: each maps the one engine to its own paths, object shapes, event names and
webhook signature scheme. `PERSONALITIES` is the explicit list the app mounts."""

from __future__ import annotations

from fintech_core.provider_sim.personalities import ledgerpay, stripeish

PERSONALITIES = {"ledgerpay": ledgerpay, "stripeish": stripeish}
