"""The 500 path: an unexpected exception becomes the `internal-error` problem, and the connection
stays usable.

Why a middleware and not `add_exception_handler(Exception, ...)`: Starlette runs that handler in
its outermost ServerErrorMiddleware, which sends the response and then *re-raises* (by design,
so that servers can log it). uvicorn then sees an exception escape the app after the response
started and closes the transport without `Connection: close`: a keep-alive client's next request
on that connection failed with "connection reset by peer". Caught here, inside that middleware,
the exception ends as a complete response and uvicorn keeps the connection.

Guaranteed: every unexpected exception is logged once, with the correlation id that the client
receives in the body, so a client quoting it finds the traceback. If the response had already
started (nothing in this API streams), a clean answer is impossible: the exception is re-raised
and the server closes the connection, the only honest signal of a truncated response.
"""

from __future__ import annotations

import logging
import uuid

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fintech_core.api.problems import problem_response

log = logging.getLogger("fintech_core.api")


def internal_error(method: str, path: str) -> JSONResponse:
    """The `internal-error` problem, with what the client can do and an id to quote. Call it
    from an `except` block: the traceback is logged under the same id."""
    correlation_id = uuid.uuid4().hex
    log.exception("unhandled error on %s %s [correlation_id=%s]", method, path, correlation_id)
    detail = (f"An unexpected error on our side (correlation id {correlation_id}; quote it if "
              f"you report this). Retrying with the same Idempotency-Key is safe: the request "
              f"runs once, or its first response is replayed.")
    return problem_response("internal-error", detail, path, correlation_id=correlation_id)


class UnhandledErrors:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:
            if started:
                raise
            response = internal_error(scope["method"], scope["path"])
            await response(scope, receive, send)
