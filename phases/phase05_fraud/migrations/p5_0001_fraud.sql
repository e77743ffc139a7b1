-- Phase 5: the fraud engine's decisions and the review queue.
-- Read with p5_0001_fraud.py, which says what it guarantees.

CREATE TABLE fraud_decisions (
    transfer_id    uuid PRIMARY KEY REFERENCES transfers (id),
    ruleset        text NOT NULL CHECK (ruleset <> ''),
    verdict        text NOT NULL CHECK (verdict IN ('allow', 'review', 'block')),
    score          integer NOT NULL CHECK (score >= 0),
    reasons        jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(reasons) = 'array'),
    fallback       text CHECK (fallback IN ('budget-exceeded', 'engine-error')),
    shadow_ruleset text CHECK (shadow_ruleset <> ''),
    shadow_verdict text CHECK (shadow_verdict IN ('allow', 'review', 'block')),
    shadow_score   integer CHECK (shadow_score >= 0),
    shadow_reasons jsonb CHECK (jsonb_typeof(shadow_reasons) = 'array'),
    decided_at     timestamptz NOT NULL,
    CHECK ((shadow_verdict IS NULL) = (shadow_ruleset IS NULL)
           AND (shadow_score IS NULL) = (shadow_ruleset IS NULL)
           AND (shadow_reasons IS NULL) = (shadow_ruleset IS NULL)),
    CHECK (fallback IS NULL OR (score = 0 AND reasons = '[]'))
);
COMMENT ON TABLE fraud_decisions IS 'What the request-path fraud engine answered for each transfer it decided, written in the transfer''s own transaction (a declined transfer''s too): the audit trail of every verdict, and what the shadow report compares.';
COMMENT ON COLUMN fraud_decisions.transfer_id IS 'The transfer decided: one decision per transfer, kept as long as the transfer.';
COMMENT ON COLUMN fraud_decisions.ruleset IS 'The live rule set (FINCORE_FRAUD_RULES) that decided, e.g. v1: a verdict is explained by the rules of that version.';
COMMENT ON COLUMN fraud_decisions.verdict IS 'The verdict applied: allow, review (the transfer became a hold) or block (a FAILED transfer-declined).';
COMMENT ON COLUMN fraud_decisions.score IS 'The sum of the fired rules'' scores; 0 when a fallback applied.';
COMMENT ON COLUMN fraud_decisions.reasons IS 'The rules that fired: [{rule_id, version, verdict, score, reason_code}]. Shown only to callers holding fraud:read, never to the customer.';
COMMENT ON COLUMN fraud_decisions.fallback IS 'NULL when the rules decided; budget-exceeded or engine-error when the engine did not answer in FINCORE_FRAUD_BUDGET_MS and FINCORE_FRAUD_FALLBACK applied instead: timeouts are counted, not hidden.';
COMMENT ON COLUMN fraud_decisions.shadow_ruleset IS 'The candidate rule set evaluated on the same features (FINCORE_FRAUD_SHADOW_RULES); NULL when shadow mode is off or the engine fell back.';
COMMENT ON COLUMN fraud_decisions.shadow_verdict IS 'What the candidate would have answered. Never applied: it only feeds the shadow report.';
COMMENT ON COLUMN fraud_decisions.shadow_score IS 'The candidate''s score.';
COMMENT ON COLUMN fraud_decisions.shadow_reasons IS 'The candidate''s fired rules, in the shape of reasons.';
COMMENT ON COLUMN fraud_decisions.decided_at IS 'When the engine decided (the attempt''s clock, UTC): the stats and the shadow report window by it.';
CREATE INDEX fraud_decisions_decided_idx ON fraud_decisions (decided_at);

CREATE TABLE fraud_reviews (
    transfer_id uuid PRIMARY KEY REFERENCES fraud_decisions (transfer_id),
    state       text NOT NULL DEFAULT 'OPEN' CHECK (state IN ('OPEN', 'APPROVED', 'REJECTED')),
    opened_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at  timestamptz NOT NULL,
    decided_by  text CHECK (decided_by <> ''),
    decided_at  timestamptz,
    CHECK (expires_at > opened_at),
    CHECK ((state = 'OPEN') = (decided_by IS NULL) AND (decided_by IS NULL) = (decided_at IS NULL))
);
COMMENT ON TABLE fraud_reviews IS 'The review queue: one row per transfer the engine sent to review, opened in the transfer''s transaction together with its phase-1 hold. Support approves (the hold is posted) or rejects (voided).';
COMMENT ON COLUMN fraud_reviews.transfer_id IS 'The held transfer under review; its decision (verdict review) is in fraud_decisions.';
COMMENT ON COLUMN fraud_reviews.state IS 'OPEN until a person decides: APPROVED or REJECTED, final. EXPIRED is not stored: it is read from the transfer (a hold nobody reviewed expires by phase 1''s sweeper, which knows nothing of fraud).';
COMMENT ON COLUMN fraud_reviews.opened_at IS 'When the review was opened (the transfer''s transaction).';
COMMENT ON COLUMN fraud_reviews.expires_at IS 'The review''s deadline, the hold''s expiry computed the same way (FINCORE_FRAUD_REVIEW_TTL_SECONDS after it was placed); the hold''s own expires_at is authoritative.';
COMMENT ON COLUMN fraud_reviews.decided_by IS 'The subject of the support or admin who approved or rejected; NULL while OPEN.';
COMMENT ON COLUMN fraud_reviews.decided_at IS 'When it was approved or rejected; NULL while OPEN.';
CREATE INDEX fraud_reviews_open_idx ON fraud_reviews (opened_at) WHERE state = 'OPEN';

-- A held transfer under review is the reviewers' to settle: while its review is OPEN nobody posts
-- or voids it (the customer's own POST /transfers/{id}/post would otherwise skip the review).
-- It may still expire, which is how an unreviewed hold ends.
CREATE FUNCTION fraud_review_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status <> 'EXPIRED' AND EXISTS (
            SELECT 1 FROM fraud_reviews WHERE transfer_id = OLD.id AND state = 'OPEN') THEN
        RAISE EXCEPTION 'transfer % is under fraud review: only the review settles it', OLD.id
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER transfers_fraud_review_guard BEFORE UPDATE OF status ON transfers
    FOR EACH ROW WHEN (OLD.status = 'PENDING' AND NEW.status IS DISTINCT FROM OLD.status)
    EXECUTE FUNCTION fraud_review_guard();
