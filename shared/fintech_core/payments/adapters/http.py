"""The HTTP plumbing both provider adapters share: bearer auth, our Idempotency-Key, a hard
timeout, and the mapping of transport outcomes onto the port's three errors.

Why a timeout and a dropped connection are the same error: in both cases the request may have
reached the provider and been acted on; only the provider can tell, later (a status poll).
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from fintech_core.payments.ports import ProviderRefused, ProviderTimeout, ProviderUnavailable


class ProviderHttp:
    def __init__(self, base_url: str, api_key: str, timeout_ms: int) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url, timeout=timeout_ms / 1000,
            headers={"Authorization": f"Bearer {api_key}"})

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._client.request(method, path, **kwargs)
        except httpx.ConnectError as exc:
            # Refused before anything was sent: the provider cannot have acted; still reported
            # as unavailable (not "not acted"), the caller's rule is the same: ask later.
            raise ProviderUnavailable(f"{method} {path}: {exc!r}") from exc
        except (httpx.TimeoutException, httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise ProviderTimeout(f"{method} {path}: no answer ({type(exc).__name__})") from exc

    @staticmethod
    def _json(resp: httpx.Response, what: str) -> dict[str, Any]:
        if resp.status_code >= 500 or resp.status_code in (408, 409, 429):
            raise ProviderUnavailable(f"{what}: HTTP {resp.status_code} {resp.text[:200]}")
        if resp.status_code >= 400:
            raise ProviderRefused(f"{what}: HTTP {resp.status_code} {resp.text[:200]}")
        body = orjson.loads(resp.content)
        if not isinstance(body, dict):
            raise ProviderUnavailable(f"{what}: not a JSON object")
        return body

    async def post(self, path: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = await self._send("POST", path, json=body, headers={"Idempotency-Key": key})
        return self._json(resp, f"POST {path}")

    async def get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any] | None:
        """The object, or None for a 404 (the provider has no such object)."""
        resp = await self._send("GET", path, params=params)
        if resp.status_code == 404:
            return None
        return self._json(resp, f"GET {path}")

    async def close(self) -> None:
        await self._client.aclose()
