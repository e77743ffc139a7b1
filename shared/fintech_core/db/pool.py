"""The connection pool. One per process, created by the composition root, opened in lifespan."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool


def make_pool(url: str, min_size: int, max_size: int) -> AsyncConnectionPool:
    # open=False: nothing connects at import or construction time; the app lifespan opens it.
    return AsyncConnectionPool(
        url, min_size=min_size, max_size=max_size, open=False, timeout=10,
        # Sessions in UTC: a timestamp read back from PostgreSQL must serialise exactly like the
        # one the API wrote (a replayed response and GET /transfers/{id} agree byte for byte),
        # whatever time zone the server was initialised with.
        kwargs={"application_name": "fincore-api", "options": "-c TimeZone=UTC"},
    )
