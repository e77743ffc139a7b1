"""Drill plumbing, mounted only with the naive baseline: the provider simulator posts every
webhook of a personality to one URL (`/webhooks/{provider}`), so the events of the naive
baseline's own payments (references `naive-...`) are handed to the naive handler
(`/naive/webhooks/{provider}`) instead. Everything else, the phase's webhooks included, passes
through untouched, byte for byte (the signature covers the raw body).
"""

from __future__ import annotations

from typing import Any

import orjson

from fintech_core.naive.payments import REFERENCE_PREFIX


def _reference(body: bytes) -> str | None:
    try:
        data = orjson.loads(body)["data"]
        data = data.get("object", data)  # stripeish wraps the object
        return data.get("reference") or (data.get("metadata") or {}).get("reference")
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
        return None


class NaiveWebhookDivert:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if (scope["type"] != "http" or scope["method"] != "POST"
                or not scope["path"].startswith("/webhooks/")):
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, receive, send)
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        reference = _reference(body)
        if reference is not None and str(reference).startswith(REFERENCE_PREFIX):
            path = "/naive" + scope["path"]
            scope = {**scope, "path": path, "raw_path": path.encode()}
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # type: ignore[no-any-return]

        await self.app(scope, replay, send)
