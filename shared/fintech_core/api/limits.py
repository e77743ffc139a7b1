"""Caps on request headers and bodies, enforced before any route runs.

No route needs more than a few hundred bytes; without a cap a client can make the process buffer
and parse megabytes per request (and deeply nested JSON costs far more to parse than to send).
The HTTP server (httptools) sets no header limit of its own, so headers are capped here: over
16 KiB in total is 431. A declared Content-Length over 64 KiB is refused before the body is
read; a chunked body is counted as it arrives and refused the moment it passes the cap: 413.
Either way the answer is problem+json, and nothing ran.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fintech_core.api.problems import problem_response

MAX_BODY_BYTES = 64 * 1024
MAX_HEADER_BYTES = 16 * 1024


def _too_large() -> str:
    return f"the request body is larger than {MAX_BODY_BYTES} bytes"


class RequestSizeLimit:
    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES,
                 header_limit: int = MAX_HEADER_BYTES) -> None:
        self.app, self.limit, self.header_limit = app, limit, header_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if sum(len(k) + len(v) for k, v in scope["headers"]) > self.header_limit:
            response = problem_response("headers-too-large", f"request headers are larger than "
                                        f"{self.header_limit} bytes", scope["path"])
            await response(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            response = problem_response("payload-too-large", _too_large(), scope["path"])
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                # Raised inside the body read: FastAPI re-raises HTTPException, and the app's
                # handler turns it into the same 413 problem.
                raise HTTPException(413, _too_large())
            return message

        await self.app(scope, counted, send)
