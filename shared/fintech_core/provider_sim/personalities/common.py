"""Routes both personalities declare the same way: GET by id or reference, settlement."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import Request

from fintech_core.provider_sim import engine
from fintech_core.provider_sim.http import Sim, read
from fintech_core.provider_sim.problems import Problem

Render = Callable[[dict[str, Any]], dict[str, Any]]


async def get_one(sim: Sim, request: Request, provider: str, kind: str, object_id: str,
                  render: Render) -> dict[str, Any]:
    await read(sim, request, provider)
    async with sim.connection() as conn:
        found = await engine.find(conn, provider, kind, object_id=object_id)
    if not found:
        raise Problem("not-found", f"no {kind} {object_id}")
    return render(found[0])


async def by_reference(sim: Sim, request: Request, provider: str, kind: str, reference: str,
                       render: Render) -> list[dict[str, Any]]:
    """Every object with that reference, oldest first."""
    await read(sim, request, provider)
    async with sim.connection() as conn:
        return [render(r) for r in await engine.find(conn, provider, kind, reference=reference)]


async def settlement(sim: Sim, request: Request, provider: str, day: date,
                     currency: str) -> dict[str, Any]:
    await read(sim, request, provider)
    async with sim.connection() as conn:
        lines = await engine.settlement(conn, provider, day)
    return {"date": day.isoformat(), "provider": provider, "currency": currency.upper(),
            "lines": [{k: v for k, v in line.items() if k != "currency"} for line in lines
                      if line["currency"] == currency.upper()]}
