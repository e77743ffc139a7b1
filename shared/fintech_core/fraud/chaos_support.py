"""What phase 5's chaos faults and hooks share: the review scene (the API's fallback and review
expiry for the run), the reviewer they keep in `env.measures`, and the run's review holds."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg

from fintech_core.chaos.env import ChaosEnv
from fintech_core.fraud.chaos_reviewer import Reviewer
from fintech_core.stack.processes import wait_until

REVIEWER = "fraud.reviewer"
# Short, so that holds left alone expire within the run (the contract's default is an hour).
REVIEW_TTL_S = 4
SWEEP_SLACK_S = 2.0  # a sweep that started just before the expiry, and its transaction

# The run's review holds: holds of transfers between customer accounts created since the run
# began (the bank workload's; a payout's hold has no destination).
RUN_HOLDS = """
    SELECT t.id::text, t.status, h.expires_at FROM transfers t JOIN holds h ON h.transfer_id = t.id
     WHERE t.kind = 'TRANSFER' AND t.destination_id IS NOT NULL AND t.created_at >= %(since)s"""


def reviewer(env: ChaosEnv) -> Reviewer | None:
    found = env.measures.get(REVIEWER)
    return found if isinstance(found, Reviewer) else None


def review_ttl_s(env: ChaosEnv) -> float:
    return float(env.options.get("fraud_review_ttl_s", REVIEW_TTL_S))


def sweep_s(env: ChaosEnv) -> float:
    assert env.session is not None
    return float(env.session.lab.settings.hold_sweep_interval_seconds)


def review_scene(env: ChaosEnv) -> None:
    """Restart the API with fallback "review" and the short review expiry. The flags stay in
    the API's environment, so an api-kill fault later restarts it the same way."""
    env.api.env.update({"FINCORE_FRAUD_FALLBACK": "review",
                        "FINCORE_FRAUD_REVIEW_TTL_SECONDS": str(int(review_ttl_s(env)))})
    env.api.stop()
    env.wait_api_gone()
    env.api.start()


def since(env: ChaosEnv) -> datetime:
    return datetime.fromtimestamp(env.run_started or 0, UTC)


def run_holds(env: ChaosEnv) -> list[tuple[str, str, datetime | None]]:
    with psycopg.connect(env.database_url, autocommit=True, connect_timeout=10) as conn:
        return conn.execute(RUN_HOLDS, {"since": since(env)}).fetchall()


def wait_holds_ended(env: ChaosEnv) -> bool:
    bound = review_ttl_s(env) + sweep_s(env) + env.options.get("drain_bound_s", 120.0)

    def ended() -> bool:
        try:
            return all(status != "PENDING" for _, status, _ in run_holds(env))
        except psycopg.OperationalError:
            return False  # the database restarts under a fault that just ended

    return wait_until(ended, bound, 0.5)
