"""/_admin: knobs, reset, secret rotation and the delivery log, behind the admin key of
secrets.json (a drill or a test flips a knob; a client of the provider API cannot)."""

from __future__ import annotations

import hmac
from typing import Any, Literal

from fastapi import APIRouter, Request

from fintech_core.provider_sim import knobs as knob_store
from fintech_core.provider_sim import secrets as secret_file
from fintech_core.provider_sim.http import Sim
from fintech_core.provider_sim.knobs import KnobsRequest
from fintech_core.provider_sim.problems import Problem

Provider = Literal["ledgerpay", "stripeish"]


def _admin(sim: Sim, request: Request) -> None:
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not (given and hmac.compare_digest(given, sim.reload_secrets().admin_key)):
        raise Problem("unauthorized", "send Authorization: Bearer <admin_key of secrets.json>")


def router(sim: Sim) -> APIRouter:
    r = APIRouter(prefix="/_admin", tags=["admin"])

    @r.get("/knobs")
    async def get_knobs(request: Request) -> dict[str, Any]:
        _admin(sim, request)
        async with sim.connection() as conn:
            return await knob_store.listing(conn)

    @r.post("/knobs")
    async def set_knobs(body: KnobsRequest, request: Request) -> dict[str, Any]:
        _admin(sim, request)
        async with sim.connection() as conn:
            await knob_store.set_knobs(conn, body)
            sim.wake_sender.set()  # a reorder switched off releases held deliveries now
            return await knob_store.listing(conn)

    @r.post("/reset")
    async def reset(request: Request) -> dict[str, Any]:
        _admin(sim, request)
        async with sim.connection() as conn:
            await knob_store.reset(conn)
            sim.wake_sender.set()
            return await knob_store.listing(conn)

    @r.post("/rotate/{provider}")
    async def rotate(provider: Provider, request: Request) -> dict[str, Any]:
        """Prepend a new webhook secret: from now on every webhook carries one signature per
        secret, until /retire drops the oldest."""
        _admin(sim, request)
        updated = secret_file.rotate(sim.lab_dir, provider)
        sim.secrets = updated
        return {"provider": provider, "webhook_secrets": len(updated.of(provider).webhook_secrets)}

    @r.post("/retire/{provider}")
    async def retire(provider: Provider, request: Request) -> dict[str, Any]:
        _admin(sim, request)
        updated = secret_file.retire(sim.lab_dir, provider)
        sim.secrets = updated
        return {"provider": provider, "webhook_secrets": len(updated.of(provider).webhook_secrets)}

    @r.get("/deliveries")
    async def deliveries(request: Request, reference: str | None = None,
                         provider: Provider | None = None) -> list[dict[str, Any]]:
        """Every delivery (one per copy of an event) with its attempts, oldest first."""
        _admin(sim, request)
        async with sim.connection() as conn:
            cur = await conn.execute(
                "SELECT d.id, e.id AS webhook_id, e.provider, e.type, e.reference, e.object_id, "
                "d.copy, d.state, d.attempts AS attempt_count, d.wrong_signature, "
                "d.clock_skew_seconds, coalesce(json_agg(json_build_object("
                "'at', a.at, 'url', a.url, 'status_code', a.status_code, 'error', a.error, "
                "'signed_timestamp', a.signed_timestamp) ORDER BY a.id) "
                "FILTER (WHERE a.id IS NOT NULL), '[]') AS attempts "
                "FROM deliveries d JOIN events e ON e.seq = d.event_seq "
                "LEFT JOIN attempts a ON a.delivery_id = d.id "
                "WHERE (%s::text IS NULL OR e.reference = %s) "
                "AND (%s::text IS NULL OR e.provider = %s) "
                "GROUP BY d.id, e.seq ORDER BY d.id", (reference, reference, provider, provider))
            return [dict(r) for r in await cur.fetchall()]

    return r
