-- Phase 4 schema. Read with p4_0001_auth.py, which says what it guarantees.

-- ---------------------------------------------------------------------------------------------
-- Identities the lab's own issuer authenticates. External OIDC users are not stored: their
-- subject is "<issuer>|<sub>" (auth/tokens.py).
CREATE TABLE auth_users (
    username      text PRIMARY KEY CHECK (username ~ '^[a-z0-9._-]{1,64}$'),
    password_hash text NOT NULL CHECK (password_hash LIKE 'scrypt$%'),
    roles         text[] NOT NULL CHECK (roles <@ ARRAY['customer', 'support', 'admin', 'auditor']::text[]
                                         AND cardinality(roles) >= 1),
    created_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE auth_users IS 'People who log in with a password (OAuth password grant, lab only). The username is the token subject and the owner of their accounts.';
COMMENT ON COLUMN auth_users.password_hash IS 'scrypt$<log2 N>$<r>$<p>$<salt>$<key>: the parameters travel with the hash so they can be raised later.';

CREATE TABLE auth_clients (
    client_id   text PRIMARY KEY CHECK (client_id ~ '^[a-z0-9._-]{1,64}$'),
    secret_hash text NOT NULL CHECK (secret_hash LIKE 'scrypt$%'),
    roles       text[] NOT NULL CHECK (roles <@ ARRAY['service', 'customer', 'admin']::text[]
                                       AND 'service' = ANY (roles)),
    created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE auth_clients IS 'Machine clients (client_credentials grant): the payments worker (service only) and the lab''s own test driver, lab-driver (service, customer, admin: it opens, funds and moves money and arms drill faults; a production system has no such client). Every client holds the service role; none holds support or auditor.';

-- ---------------------------------------------------------------------------------------------
-- Refresh-token rotation with reuse detection (auth/refresh.py).
CREATE TABLE refresh_families (
    id             uuid PRIMARY KEY,
    subject        text NOT NULL,
    client         text NOT NULL CHECK (client IN ('user', 'service')),
    roles          text[] NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz,
    revoked_reason text CHECK (revoked_reason IN ('reuse', 'logout', 'admin')),
    CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
);
COMMENT ON TABLE refresh_families IS 'One per login: every refresh token rotated from it belongs to it. Revoking the family ends the whole chain, which is what reuse detection does.';

CREATE FUNCTION refresh_families_revoked_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS DISTINCT FROM OLD.revoked_at THEN
        RAISE EXCEPTION 'refresh family % is revoked for good', OLD.id
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER refresh_families_revoked_once BEFORE UPDATE ON refresh_families
    FOR EACH ROW EXECUTE FUNCTION refresh_families_revoked_once();

CREATE TABLE refresh_tokens (
    token_hash  bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    family_id   uuid NOT NULL REFERENCES refresh_families (id),
    issued_at   timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    rotated_at  timestamptz,
    CHECK (expires_at > issued_at)
);
COMMENT ON TABLE refresh_tokens IS 'SHA-256 of each refresh token ever issued. rotated_at set: it was exchanged once; presenting it again is reuse, and revokes its family.';
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);

-- ---------------------------------------------------------------------------------------------
-- Login throttle (auth/throttle.py): consecutive failures, per (account, IP) and per IP.
CREATE TABLE login_failures (
    scope           text NOT NULL CHECK (scope IN ('account_ip', 'ip')),
    key             text NOT NULL,
    failures        integer NOT NULL CHECK (failures > 0),
    last_failure_at timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);
COMMENT ON TABLE login_failures IS 'Never per account alone: that counter is the one an attacker anywhere could fill to lock the owner out.';

-- ---------------------------------------------------------------------------------------------
-- Amount limits (limits/amounts.py), enforced in the transfer's own transaction.
CREATE TABLE account_limits (
    account_id         uuid PRIMARY KEY REFERENCES accounts (id),
    per_transfer_max   bigint CHECK (per_transfer_max > 0),
    daily_outgoing_max bigint CHECK (daily_outgoing_max >= 0),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE account_limits IS 'Integer minor units. NULL: no such limit. No row: the account has no amount limits (phases 0..3 behaviour).';

CREATE TABLE account_daily_outgoing (
    account_id uuid NOT NULL REFERENCES accounts (id),
    day        date NOT NULL,
    amount     bigint NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (account_id, day)
);
COMMENT ON TABLE account_daily_outgoing IS 'What left each limited account per UTC day, updated in the transfer''s transaction: it commits or rolls back with the money.';

CREATE FUNCTION account_daily_outgoing_within_limit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cap bigint;
BEGIN
    SELECT daily_outgoing_max INTO cap FROM account_limits WHERE account_id = NEW.account_id;
    IF cap IS NOT NULL AND NEW.amount > cap THEN
        RAISE EXCEPTION 'account % would send % on %, its daily limit is %', NEW.account_id,
            NEW.amount, NEW.day, cap USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER account_daily_outgoing_within_limit BEFORE INSERT OR UPDATE ON account_daily_outgoing
    FOR EACH ROW EXECUTE FUNCTION account_daily_outgoing_within_limit();
