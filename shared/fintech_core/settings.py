"""One settings class for the whole lab: every knob is an env var with the FINCORE_ prefix.

Why one class: the embedded stack, compose.yaml, the tests and the notebooks must agree on names,
and a structure test checks compose.yaml against the fields declared here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# The repository root: shared/fintech_core/settings.py -> parents[2].
REPO_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FINCORE_", extra="ignore")

    # --- where the real servers are -------------------------------------------------------
    # When a URL is set the lab uses that server and starts none of its own (compose, CI services).
    database_url: str | None = Field(
        default=None, description="PostgreSQL URL (postgresql://user@host:port/db)."
    )
    redis_url: str | None = Field(default=None, description="Redis URL (redis://host:port/0).")
    kafka_bootstrap: str | None = Field(
        default=None, description="Kafka-protocol bootstrap servers (host:port)."
    )

    # --- the embedded stack (used only for servers whose URL is not set) -------------------
    lab_dir: Path = Field(
        default=REPO_ROOT / ".lab", description="Where embedded servers keep data, logs, pids."
    )
    pg_port: int = 54320
    redis_port: int = 63790
    broker_port: int = 19092
    broker_storage: Literal["memory", "s3"] = Field(
        default="memory", description="Where the embedded broker keeps topics: memory (a restart "
        "loses them; the relay re-queues) or s3 (an embedded SeaweedFS object store, one more "
        "process; topics, records and topic ids survive a restart).")
    object_store_port: int = Field(
        default=18333, description="S3 port of the object store (FINCORE_BROKER_STORAGE=s3).")
    api_host: str = "127.0.0.1"
    api_port: int = 8000

    database_prefix: str = Field(
        default="fincore", pattern=r"^[a-z][a-z0-9_]{0,40}$",
        description="Databases are named <prefix>_p<phase> on the server that "
                    "FINCORE_DATABASE_URL names.",
    )

    # --- the service ------------------------------------------------------------------------
    phase: int = Field(default=0, ge=0, description="Highest phase composed into the service.")
    naive_baseline: bool = Field(
        default=False, description="Mount the deliberately broken /naive endpoints."
    )
    drill_mode: bool = Field(
        default=False, description="Enable fault points and the /_drill admin routes."
    )
    db_pipeline: bool = Field(
        default=False, description="psycopg pipeline mode: send a transaction's unread statements "
        "with the next sync. Measured on loopback: no change in throughput, latency or CPU per "
        "transfer (a round trip is ~50 us there); worth it over a real network.")
    group_commit: bool = Field(
        default=True, description="Group commit: POST /transfers and deposits that arrive while "
        "a batch runs wait and run together in one transaction (transfers/group_commit.py). On "
        "by default since a quiet-machine quick bench showed it wins (bench/README.md, Group "
        "commit). Off: one transaction per request, the baseline the article compares and the "
        "mode the drills that hold one request mid-transaction pin (drills/drill.py "
        "PER_REQUEST). In a batch the drill fault point transfer.before_commit fires once per "
        "batch and fails all of it.")
    group_commit_max_batch: int = Field(
        default=64, ge=1, le=1000, description="Most transfers in one group-commit batch.")
    group_commit_max_wait_us: int = Field(
        default=0, ge=0, le=100_000, description="How long a batch waits for more transfers "
        "before it starts (0: it starts at once with whatever queued while the last one ran).")
    db_pool_min: int = 2
    db_pool_max: int = 10
    idempotency_retention_hours: int = Field(
        default=24, ge=1, description="How long a stored Idempotency-Key response is replayed."
    )
    reaper_interval_seconds: float = Field(default=300.0, gt=0)
    hold_sweep_interval_seconds: float = Field(
        default=1.0, gt=0, description="Phase 1+: how often expired holds are released.")
    # --- phase 2: events ---------------------------------------------------------------------
    event_partitions: int = Field(
        default=3, ge=1, le=64, description="Partitions of each event topic, created explicitly.")
    relay_batch_size: int = Field(default=500, ge=1, le=10_000)
    relay_poll_seconds: float = Field(
        default=0.5, gt=0, description="Relay wake-up when no NOTIFY arrives (the fallback).")
    outbox_retention_hours: float = Field(
        default=24.0, gt=0, description="Published outbox rows are kept (for replay) this long.")
    consumer_max_attempts: int = Field(
        default=3, ge=1, le=20, description="Tries of a transient failure before the DLQ.")
    consumer_backoff_ms: int = Field(default=100, ge=0, description="First retry delay; doubles.")
    consumer_lease_seconds: float = Field(
        default=6.0, ge=0.5, le=300, description="Partition lease of a consumer process, renewed "
        "every third of it: a killed process's partitions are taken over after at most this.")
    relay_crash_after_publish: bool = Field(
        default=False, description="Drill: the relay exits after the broker acknowledged a "
                                   "batch and before it marks the rows published.")
    # --- phase 3: the provider simulator (contract-phase3) and the payments slice ------------
    provider_host: str = "127.0.0.1"
    provider_port: int = 8090
    provider_timeout_ms: int = Field(
        default=2000, ge=50, description="The payments adapter's HTTP timeout toward the provider: "
        "past it a call is UNKNOWN and resolved by status polling, never re-sent with a new key.")
    provider_webhook_tolerance_seconds: int = Field(
        default=300, ge=1, description="A webhook timestamp further than this from our clock "
                                       "is refused as stale (both signature schemes).")
    provider_webhook_url_template: str = Field(
        default="http://{api_host}:{api_port}/webhooks/{provider}",
        description="Where the simulator delivers webhooks; formatted with the lab's api_host, "
                    "api_port and the personality name.")
    provider_webhook_retry_window_seconds: float = Field(
        default=120.0, gt=0, description="The simulator retries a webhook (first after 0.5 s, "
        "doubling, jittered) until this long after its first attempt, then gives up.")
    payments_lease_seconds: float = Field(
        default=5.0, gt=0, description="How long a request (or the worker) owns a payment, payout "
        "or refund it is driving; past it the payments worker resumes it.")
    payments_poll_base_seconds: float = Field(
        default=0.5, gt=0, description="First status poll of an UNKNOWN resource; doubles.")
    payments_poll_max_seconds: float = Field(default=30.0, gt=0)
    payments_worker_interval_seconds: float = Field(default=0.5, gt=0)
    # --- phase 4: auth and rate limits ------------------------------------------------------
    oidc_issuer: str | None = Field(
        default=None, description="An external OpenID Connect provider whose access tokens the "
        "API also accepts (its `iss`); unset: only the lab's own issuer. Needs the two below.")
    oidc_audience: str | None = Field(
        default=None, description="The `aud` the external provider's tokens must carry for us.")
    oidc_jwks_url: str | None = Field(
        default=None, description="Where the external provider publishes its signing keys.")
    auth_access_ttl_seconds: int = Field(
        default=300, ge=1, le=3600, description="Lifetime of the access tokens the lab's "
        "issuer signs (auth/runtime.py). Short: revocation is by expiry. A chaos run lowers it "
        "(`fcl chaos --token-ttl`) so that its writers' tokens expire mid-run.")
    auth_clock_leeway_seconds: int = Field(
        default=30, ge=0, le=60, description="Clock skew the verifier tolerates on exp, nbf "
        "and iat (RFC 8725; capped at 60 s by auth/tokens.py). A chaos run sets 0 so that a "
        "token sent at its expiry is refused and the driver's retry-after-401 path is tested.")
    # Request rates (limits/middleware.py, GCRA in Redis), per second with a burst on top. Sized
    # so that no person clicking (a page fans out to ~10 requests) and no tool driving the lab
    # (bench, chaos: the lab-driver is a service client) is ever refused, while a script looping
    # on an endpoint is, within a second.
    rate_limit_user_per_second: int = Field(
        default=20, ge=1, description="Sustained requests per second of one person (password "
        "or external OIDC token); a human never reaches it, a script does in seconds.")
    rate_limit_user_burst: int = Field(
        default=40, ge=1, description="Requests a person may send at once on an idle bucket "
        "(a page load, a notebook cell).")
    rate_limit_service_per_second: int = Field(
        default=1000, ge=1, description="Sustained requests per second of one service client "
        "(payments worker, the lab's driver): above what the bench drives, so it measures the "
        "API, not the limiter; it still stops a client stuck in a hot retry loop.")
    rate_limit_service_burst: int = Field(default=2000, ge=1)
    rate_limit_ip_per_second: int = Field(
        default=200, ge=1, description="Sustained requests per second from one client address "
        "without a verified token (the token endpoint, public routes, refused tokens). "
        "Authenticated requests spend their principal's bucket instead: many people share an "
        "office's (or the lab's 127.0.0.1) address.")
    rate_limit_ip_burst: int = Field(default=400, ge=1)
    # --- phase 5: fraud ---------------------------------------------------------------------
    fraud_rules: str = Field(
        default="v1", pattern=r"^[a-z0-9][a-z0-9_-]{0,40}$", description="The live rule set "
        "(fraud/rulesets/<name>.yaml): its verdict decides every transfer.")
    fraud_shadow_rules: str | None = Field(
        default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,40}$", description="A candidate rule set "
        "evaluated on the same features and stored beside the live decision, never applied "
        "(shadow mode; `fcl fraud shadow-report` compares them).")
    fraud_budget_ms: int = Field(
        default=20, ge=1, le=10_000, description="The request path's time budget for a fraud "
        "decision; past it the fallback verdict applies and the decision records why.")
    fraud_fallback: Literal["allow", "review"] = Field(
        default="allow", description="The verdict applied when the engine is past its budget or "
        "fails: allow (availability first) or review (a hold support must look at).")
    fraud_review_ttl_seconds: int = Field(
        default=3600, ge=1, description="A reviewed transfer's hold expires this long after it "
        "was placed when nobody approved or rejected it (the funds are released).")
    fraud_features_prefix: str = Field(
        default="fcl:fraud:", pattern=r"^[A-Za-z0-9:_-]{1,80}$", description="The namespace of "
        "the fraud feature windows in Redis. A drill or a test that needs exact verdicts gets "
        "its own, so that other traffic (all of a test session's comes from 127.0.0.1) does not "
        "count in its IP and device windows.")
    fraud_engine_delay_ms: int = Field(
        default=0, ge=0, description="Drill mode only: the engine sleeps this long inside its "
        "budgeted call (a slow engine).")
    fraud_engine_fail: bool = Field(
        default=False, description="Drill mode only: the engine raises inside its budgeted "
        "call (a failing engine).")
    # The naive baseline sends its receipt inline; these make the "mail server" slow or broken.
    mail_latency_ms: int = Field(default=0, ge=0)
    mail_fail: bool = False

    def database_name(self) -> str:
        """Each phase gets its own database so that, e.g., phase 0's balance column and phase 1's
        ledger never share rows (a phase-0 write would be drift to phase 1's verify)."""
        return f"{self.database_prefix}_p{self.phase}"


def get_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
