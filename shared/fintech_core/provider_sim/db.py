"""The simulator's own database, `<database_prefix>_provider` on the lab's PostgreSQL.

It is the provider's side of the world: never joined with the lab's databases, never migrated
by alembic (the simulator creates its tables at start, `IF NOT EXISTS`, so a restart keeps its
state: pending payouts still settle and undelivered webhooks are still retried).
"""

from __future__ import annotations

from fintech_core.db.admin import ensure_database
from fintech_core.db.urls import with_database
from fintech_core.settings import Settings
from fintech_core.stack.lab import Lab

SCHEMA = """
-- Charges (payment intents), refunds and payouts of both personalities: one engine.
CREATE TABLE IF NOT EXISTS objects (
    id           text PRIMARY KEY,          -- ch_/pi_, re_, po_: the provider's own id
    provider     text NOT NULL,             -- the personality that created it
    kind         text NOT NULL CHECK (kind IN ('charge', 'refund', 'payout')),
    reference    text NOT NULL,             -- the caller's id (our payment / refund / payout id)
    amount       bigint NOT NULL CHECK (amount > 0),   -- minor units
    currency     text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status       text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'paid')),
    outcome      text NOT NULL,             -- the status a pending object moves to at due_at
    failure_code text,                      -- shown once the status is 'failed'
    fee          bigint NOT NULL DEFAULT 0 CHECK (fee >= 0),  -- set when it succeeds / is paid
    charge_id    text REFERENCES objects (id),   -- a refund's charge
    instrument   text NOT NULL,             -- source / payment_method / destination as sent
    knobs        jsonb NOT NULL,            -- webhook knobs of the creating operation
    due_at       timestamptz,               -- when a pending object moves on
    created_at   timestamptz NOT NULL DEFAULT now(),
    settled_at   timestamptz,               -- when it left 'pending' (the settlement date)
    CHECK ((kind = 'refund') = (charge_id IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS objects_by_reference ON objects (provider, kind, reference);
CREATE INDEX IF NOT EXISTS objects_due ON objects (due_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS objects_settled ON objects (provider, settled_at);

-- Server-side Idempotency-Key: the first response, replayed for the same request.
CREATE TABLE IF NOT EXISTS idempotency (
    provider     text NOT NULL,
    key          text NOT NULL,
    request_hash text NOT NULL,             -- sha256 of method, path and canonical JSON body
    status       int NOT NULL,
    body         jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, key)
);

-- One row per state change; payload is the engine's object at that moment.
CREATE TABLE IF NOT EXISTS events (
    seq        bigserial PRIMARY KEY,
    id         text NOT NULL UNIQUE,        -- msg_ / evt_: the webhook id, same on every copy
    provider   text NOT NULL,
    object_id  text NOT NULL REFERENCES objects (id),
    reference  text NOT NULL,               -- the object's reference, for /_admin/deliveries
    type       text NOT NULL,               -- engine type: charge.succeeded, payout.paid, ...
    payload    jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The durable delivery queue: one row per copy of an event (duplicates are extra copies).
CREATE TABLE IF NOT EXISTS deliveries (
    id                 bigserial PRIMARY KEY,
    event_seq          bigint NOT NULL REFERENCES events (seq),
    copy               int NOT NULL,
    state              text NOT NULL CHECK (state IN ('held', 'pending', 'delivered', 'failed', 'lost')),
    due_at             timestamptz NOT NULL DEFAULT now(),
    first_attempt_at   timestamptz,
    attempts           int NOT NULL DEFAULT 0,
    wrong_signature    boolean NOT NULL,
    clock_skew_seconds int NOT NULL,
    held_since         timestamptz,
    UNIQUE (event_seq, copy)
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (due_at, id) WHERE state = 'pending';

-- Every HTTP attempt at a delivery, with what the receiver answered.
CREATE TABLE IF NOT EXISTS attempts (
    id          bigserial PRIMARY KEY,
    delivery_id bigint NOT NULL REFERENCES deliveries (id),
    at          timestamptz NOT NULL DEFAULT now(),
    url         text NOT NULL,
    status_code int,                        -- null: no answer (refused, timed out)
    error       text,
    signed_timestamp bigint NOT NULL        -- the timestamp signed (clock skew included)
);

-- Runtime knobs, per personality or '*'; remaining counts the operations left (null: until
-- changed).
CREATE TABLE IF NOT EXISTS knobs (
    provider  text PRIMARY KEY,
    settings  jsonb NOT NULL,
    remaining int CHECK (remaining > 0)
);
"""

TABLES = ("attempts", "deliveries", "events", "idempotency", "objects", "knobs")


def database_name(settings: Settings) -> str:
    return f"{settings.database_prefix}_provider"


def database_url(settings: Settings) -> str:
    """The simulator's database on the lab's server (created if missing)."""
    server = Lab(settings).database_url()
    ensure_database(server, database_name(settings))
    return with_database(server, database_name(settings))
