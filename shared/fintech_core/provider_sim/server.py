"""Run the simulator in this process: `fcl provider serve` or `python -m
fintech_core.provider_sim.server` (uses the FINCORE_* settings: the lab's PostgreSQL, its lab
directory for secrets.json, provider_host/provider_port to listen on)."""

from __future__ import annotations

from fintech_core.provider_sim.app import create_app
from fintech_core.settings import Settings


def serve(settings: Settings | None = None) -> None:
    import uvicorn

    settings = settings or Settings()
    # httptools or h11: both keep the transport on the request cycle (see app.drop_connection).
    uvicorn.run(create_app(settings), host=settings.provider_host, port=settings.provider_port,
                access_log=False, log_level="info")


if __name__ == "__main__":
    serve()
