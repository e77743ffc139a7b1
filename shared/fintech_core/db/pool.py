"""The connection pool. One per process, created by the composition root, opened in lifespan."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool


def make_pool(url: str, min_size: int, max_size: int) -> AsyncConnectionPool:
    # open=False: nothing connects at import or construction time; the app lifespan opens it.
    return AsyncConnectionPool(
        url, min_size=min_size, max_size=max_size, open=False, timeout=10,
        kwargs={"application_name": "fincore-api"},
    )
