-- +goose Up

-- The purge, done once every participant has answered: when, and what it
-- did ({"bounds": {stream: last sequence examined}, "removed": {stream:
-- messages removed}}). No personal data: sequences and counts.
ALTER TABLE erasures ADD COLUMN purged_at timestamptz, ADD COLUMN purge jsonb;

-- A participant's verification, after the purge: when, and what it
-- reported ({"remaining": {kind: n}, "suppressed": n, "consumers":
-- {durable: ack floor}}). An erasure completes once every participant is
-- verified.
ALTER TABLE erasure_participants ADD COLUMN verified_at timestamptz, ADD COLUMN verification jsonb;
ALTER TABLE erasure_participants DROP CONSTRAINT erasure_participants_state_check;
ALTER TABLE erasure_participants DROP CONSTRAINT erasure_participants_check;
ALTER TABLE erasure_participants ADD CONSTRAINT erasure_participants_state_check
    CHECK (state IN ('pending', 'answered', 'verified'));
ALTER TABLE erasure_participants ADD CONSTRAINT erasure_participants_answered_check
    CHECK ((state <> 'pending') = (answered_at IS NOT NULL AND erased IS NOT NULL));
ALTER TABLE erasure_participants ADD CONSTRAINT erasure_participants_verified_check
    CHECK ((state = 'verified') = (verified_at IS NOT NULL AND verification IS NOT NULL));

ALTER TABLE erasure_audit DROP CONSTRAINT erasure_audit_action_check;
ALTER TABLE erasure_audit ADD CONSTRAINT erasure_audit_action_check
    CHECK (action IN ('requested', 'answered', 'purged', 'verified', 'completed'));
ALTER TABLE erasure_audit ADD COLUMN detail jsonb;

-- +goose Down
ALTER TABLE erasure_audit DROP COLUMN detail;
ALTER TABLE erasure_audit DROP CONSTRAINT erasure_audit_action_check;
ALTER TABLE erasure_audit ADD CONSTRAINT erasure_audit_action_check
    CHECK (action IN ('requested', 'answered', 'completed'));
ALTER TABLE erasure_participants DROP CONSTRAINT erasure_participants_verified_check;
ALTER TABLE erasure_participants DROP CONSTRAINT erasure_participants_answered_check;
ALTER TABLE erasure_participants DROP CONSTRAINT erasure_participants_state_check;
UPDATE erasure_participants SET state = 'answered' WHERE state = 'verified';
ALTER TABLE erasure_participants ADD CONSTRAINT erasure_participants_state_check
    CHECK (state IN ('pending', 'answered'));
ALTER TABLE erasure_participants ADD CONSTRAINT erasure_participants_check
    CHECK ((state = 'answered') = (answered_at IS NOT NULL AND erased IS NOT NULL));
ALTER TABLE erasure_participants DROP COLUMN verification, DROP COLUMN verified_at;
ALTER TABLE erasures DROP COLUMN purge, DROP COLUMN purged_at;
