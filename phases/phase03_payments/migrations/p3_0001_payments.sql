-- Phase 3 schema. Read with p3_0001_payments.py, which says what it guarantees.

-- ---------------------------------------------------------------------------------------------
-- The state machine, once in SQL (the trigger) and once in Python (payments/domain.py); a unit
-- test keeps the two tables equal.
CREATE FUNCTION payments_allowed(from_state text, to_state text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE from_state
        WHEN 'PENDING' THEN to_state IN ('UNKNOWN', 'AUTHORIZED', 'CAPTURED', 'SETTLED', 'FAILED')
        WHEN 'UNKNOWN' THEN to_state IN ('AUTHORIZED', 'CAPTURED', 'SETTLED', 'FAILED')
        WHEN 'AUTHORIZED' THEN to_state IN ('CAPTURED', 'SETTLED', 'FAILED')
        WHEN 'CAPTURED' THEN to_state IN ('SETTLED')
        WHEN 'SETTLED' THEN to_state IN ('PARTIALLY_REFUNDED', 'REFUNDED')
        WHEN 'PARTIALLY_REFUNDED' THEN to_state IN ('REFUNDED')
        ELSE false END
$$;
COMMENT ON FUNCTION payments_allowed IS 'The forward-only transition table of payments, payouts and refunds: FAILED and REFUNDED are final, and nothing returns to PENDING, so an event that arrives late can never undo a newer one.';

CREATE FUNCTION payments_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '% rows are never deleted', TG_TABLE_NAME
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF NEW.state IS DISTINCT FROM OLD.state AND NOT payments_allowed(OLD.state, NEW.state) THEN
        RAISE EXCEPTION 'illegal transition of % %: % -> %', TG_TABLE_NAME, OLD.id, OLD.state,
            NEW.state USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF (NEW.id, NEW.account_id, NEW.provider, NEW.amount, NEW.currency, NEW.provider_key)
       IS DISTINCT FROM (OLD.id, OLD.account_id, OLD.provider, OLD.amount, OLD.currency,
                         OLD.provider_key) THEN
        RAISE EXCEPTION 'only the state and provider facts of % % may change', TG_TABLE_NAME,
            OLD.id USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    NEW.updated_at := clock_timestamp();
    RETURN NEW;
END $$;

CREATE TABLE payment_state_history (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    resource_type text NOT NULL CHECK (resource_type IN ('payment', 'payout', 'refund')),
    resource_id   uuid NOT NULL,
    from_state    text,
    to_state      text NOT NULL,
    cause         text NOT NULL,
    at            timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE payment_state_history IS 'Every state a payment, payout or refund took, written by a trigger (no code path can skip it): the timelines of GET /payments/{id}, GET /payouts/{id} and the drills.';
COMMENT ON COLUMN payment_state_history.cause IS 'What moved it: api (the request or its provider answer), webhook, poll, reconcile, worker (a resumed saga).';
CREATE INDEX payment_state_history_resource_idx ON payment_state_history (resource_id, id);

CREATE FUNCTION payments_record_state() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.state IS DISTINCT FROM OLD.state THEN
        INSERT INTO payment_state_history (resource_type, resource_id, from_state, to_state, cause)
        VALUES (TG_ARGV[0], NEW.id, CASE WHEN TG_OP = 'UPDATE' THEN OLD.state END, NEW.state,
                NEW.cause);
    END IF;
    RETURN NULL;
END $$;

-- ---------------------------------------------------------------------------------------------
-- Pay-ins.
CREATE TABLE payments (
    id                 uuid PRIMARY KEY,
    account_id         uuid NOT NULL REFERENCES accounts (id),
    provider           text NOT NULL CHECK (provider IN ('ledgerpay', 'stripeish')),
    amount             bigint NOT NULL CHECK (amount > 0),
    currency           char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    instrument         text NOT NULL,
    state              text NOT NULL DEFAULT 'PENDING',
    cause              text NOT NULL DEFAULT 'api',
    provider_key       text NOT NULL UNIQUE,
    provider_ref       text,
    failure_code       text,
    refunded           bigint NOT NULL DEFAULT 0 CHECK (refunded >= 0 AND refunded <= amount),
    ledger_transfer_id uuid UNIQUE REFERENCES transfers (id),
    attempts           integer NOT NULL DEFAULT 0,
    next_check_at      timestamptz,
    lease_until        timestamptz,
    created_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (state IN ('PENDING', 'UNKNOWN', 'AUTHORIZED', 'CAPTURED', 'SETTLED', 'FAILED',
                     'PARTIALLY_REFUNDED', 'REFUNDED')),
    CHECK ((state IN ('SETTLED', 'PARTIALLY_REFUNDED', 'REFUNDED')) = (ledger_transfer_id IS NOT NULL)),
    FOREIGN KEY (account_id, currency) REFERENCES accounts (id, currency)
);
COMMENT ON TABLE payments IS 'Pay-ins (top-ups): money the provider collects for a customer account. It reaches the account only when a verified provider fact (webhook, status poll, settlement report) says the charge succeeded.';
COMMENT ON COLUMN payments.provider_key IS 'The Idempotency-Key we send the provider, derived from our id (payments/keys.py): every retry, resume and poll-driven re-send reuses it, so the provider charges at most once.';
COMMENT ON COLUMN payments.provider_ref IS 'The provider''s id of the charge (ch_... or pi_...), once known.';
COMMENT ON COLUMN payments.ledger_transfer_id IS 'The DEPOSIT transfer that credited the customer from the provider''s clearing account. UNIQUE and set in the posting transaction: posted at most once; a CHECK ties it to the SETTLED states.';
COMMENT ON COLUMN payments.next_check_at IS 'When the worker next asks the provider (UNKNOWN, or PENDING left by a crash); doubles each time (backoff).';
COMMENT ON COLUMN payments.lease_until IS 'A process driving this payment (the request, the worker) holds it until then; the worker takes only expired leases, so a crashed request is resumed once its lease ends.';
CREATE INDEX payments_open_idx ON payments (next_check_at)
    WHERE state IN ('PENDING', 'UNKNOWN', 'AUTHORIZED', 'CAPTURED');
CREATE INDEX payments_account_idx ON payments (account_id, created_at);
CREATE TRIGGER payments_guard BEFORE UPDATE OR DELETE ON payments
    FOR EACH ROW EXECUTE FUNCTION payments_forward_only();
CREATE TRIGGER payments_history AFTER INSERT OR UPDATE OF state ON payments
    FOR EACH ROW EXECUTE FUNCTION payments_record_state('payment');

-- ---------------------------------------------------------------------------------------------
-- Payouts: a saga lite (hold -> provider -> post or void).
CREATE TABLE payouts (
    id            uuid PRIMARY KEY,
    account_id    uuid NOT NULL REFERENCES accounts (id),
    provider      text NOT NULL CHECK (provider IN ('ledgerpay', 'stripeish')),
    amount        bigint NOT NULL CHECK (amount > 0),
    currency      char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    destination   text NOT NULL,
    state         text NOT NULL DEFAULT 'PENDING',
    cause         text NOT NULL DEFAULT 'api',
    step          text NOT NULL DEFAULT 'HOLD_PLACED'
                  CHECK (step IN ('HOLD_PLACED', 'PROVIDER_ANSWERED', 'HOLD_POSTED', 'HOLD_VOIDED')),
    hold_id       uuid NOT NULL UNIQUE REFERENCES transfers (id),
    provider_key  text NOT NULL UNIQUE,
    provider_ref  text,
    failure_code  text,
    attempts      integer NOT NULL DEFAULT 0,
    next_check_at timestamptz,
    lease_until   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (state IN ('PENDING', 'UNKNOWN', 'AUTHORIZED', 'CAPTURED', 'SETTLED', 'FAILED')),
    CHECK ((state = 'SETTLED') = (step = 'HOLD_POSTED')),
    CHECK ((state = 'FAILED') = (step = 'HOLD_VOIDED')),
    FOREIGN KEY (account_id, currency) REFERENCES accounts (id, currency)
);
COMMENT ON TABLE payouts IS 'Money leaving through the provider. The hold (phase 1) is placed in the transaction that creates the row, so funds are reserved before the provider is asked; the hold ends posted (SETTLED) or voided (FAILED), never leaked.';
COMMENT ON COLUMN payouts.step IS 'The saga''s last completed step; the worker resumes from it after a crash. SETTLED <=> HOLD_POSTED and FAILED <=> HOLD_VOIDED (CHECKs), so a final state always has its ledger side done.';
COMMENT ON COLUMN payouts.hold_id IS 'The ledger hold (a PENDING WITHDRAWAL transfer) reserving the funds; posted or voided only by the saga.';
CREATE INDEX payouts_open_idx ON payouts (next_check_at) WHERE state NOT IN ('SETTLED', 'FAILED');
CREATE TRIGGER payouts_guard BEFORE UPDATE OR DELETE ON payouts
    FOR EACH ROW EXECUTE FUNCTION payments_forward_only();
CREATE TRIGGER payouts_history AFTER INSERT OR UPDATE OF state ON payouts
    FOR EACH ROW EXECUTE FUNCTION payments_record_state('payout');

CREATE TABLE payout_steps (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payout_id uuid NOT NULL REFERENCES payouts (id),
    step      text NOT NULL,
    detail    jsonb NOT NULL DEFAULT '{}',
    at        timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE payout_steps IS 'The saga log: each step (HOLD_PLACED, PROVIDER_ANSWERED, HOLD_POSTED, HOLD_VOIDED as compensation) in the transaction that did it; with payment_attempts, what a resumed saga and a drill''s timeline read.';
CREATE INDEX payout_steps_payout_idx ON payout_steps (payout_id, id);

-- ---------------------------------------------------------------------------------------------
-- Refunds of a settled pay-in: a hold on the customer's funds, the provider, then post or void.
CREATE TABLE refunds (
    id           uuid PRIMARY KEY,
    payment_id   uuid NOT NULL REFERENCES payments (id),
    account_id   uuid NOT NULL REFERENCES accounts (id),
    provider     text NOT NULL,
    amount       bigint NOT NULL CHECK (amount > 0),
    currency     char(3) NOT NULL,
    state        text NOT NULL DEFAULT 'PENDING'
                 CHECK (state IN ('PENDING', 'UNKNOWN', 'SETTLED', 'FAILED')),
    cause        text NOT NULL DEFAULT 'api',
    hold_id      uuid NOT NULL UNIQUE REFERENCES transfers (id),
    provider_key text NOT NULL UNIQUE,
    provider_ref text,
    failure_code text,
    attempts     integer NOT NULL DEFAULT 0,
    next_check_at timestamptz,
    lease_until  timestamptz,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE refunds IS 'A full or partial refund of a settled pay-in. Its hold reserves the customer''s funds first (the money may have been spent since), then a new ledger entry moves them back to the provider''s clearing account: the original deposit is never edited.';
CREATE INDEX refunds_payment_idx ON refunds (payment_id);
CREATE INDEX refunds_open_idx ON refunds (next_check_at) WHERE state IN ('PENDING', 'UNKNOWN');
CREATE TRIGGER refunds_guard BEFORE UPDATE OR DELETE ON refunds
    FOR EACH ROW EXECUTE FUNCTION payments_forward_only();
CREATE TRIGGER refunds_history AFTER INSERT OR UPDATE OF state ON refunds
    FOR EACH ROW EXECUTE FUNCTION payments_record_state('refund');

-- ---------------------------------------------------------------------------------------------
-- Talking to the provider.
CREATE TABLE payment_attempts (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    resource_type text NOT NULL CHECK (resource_type IN ('payment', 'payout', 'refund')),
    resource_id   uuid NOT NULL,
    operation     text NOT NULL CHECK (operation IN ('create', 'poll')),
    provider_key  text NOT NULL,
    outcome       text NOT NULL CHECK (outcome IN ('answered', 'timeout', 'not-found', 'error')),
    provider_status text,
    detail        text,
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE payment_attempts IS 'Every call we made to the provider and what came of it (committed with its effect, or alone for a timeout). Every create of one resource carries the same provider_key: the proof that a retry never became a second charge.';
CREATE INDEX payment_attempts_resource_idx ON payment_attempts (resource_id, id);

CREATE TABLE provider_inbox (
    provider      text NOT NULL,
    webhook_id    text NOT NULL,
    event_type    text NOT NULL,
    object_ref    text NOT NULL,
    reference     text,
    outcome       text NOT NULL CHECK (outcome IN ('applied', 'no-change', 'unmatched')),
    source        text NOT NULL CHECK (source IN ('webhook', 'reconcile')),
    received_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (provider, webhook_id)
);
COMMENT ON TABLE provider_inbox IS 'Provider events applied, keyed by the provider''s event id and written in the same transaction as the effect: a redelivery finds its row and changes nothing; a crash before COMMIT leaves neither, so the provider''s retry applies it.';
COMMENT ON COLUMN provider_inbox.outcome IS 'applied: the event moved a state (and maybe money); no-change: it was older than what we know (out of order) or repeated a state; unmatched: it names nothing of ours.';
COMMENT ON COLUMN provider_inbox.source IS 'webhook, or reconcile: a settlement-report line whose webhook never came, applied through the same effect under the id recon:<provider object id>.';

CREATE TABLE webhook_rejections (
    provider text NOT NULL,
    reason   text NOT NULL CHECK (reason IN ('forged', 'stale', 'malformed', 'duplicate')),
    count    bigint NOT NULL DEFAULT 0,
    last_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (provider, reason)
);
COMMENT ON TABLE webhook_rejections IS 'Counters of webhooks that changed nothing: forged (no signature verified), stale (timestamp outside the tolerance), malformed (verified but unreadable), duplicate (already in the inbox). Served by GET /payments/webhooks/stats.';
