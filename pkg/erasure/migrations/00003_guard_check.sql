-- +goose Up

-- erasure_guard_check is Guard.Check in one round trip: it takes the
-- customer's erasure lock shared (the key of pkg/erasure's lockKey, on the
-- customer id as the caller wrote it), then, in a statement of its own
-- that sees what committed while it waited, reads the tombstone. When the
-- tombstone covers placed_at (NULL: an event that does not say, before any
-- cut-off) it records the suppression for consumer and returns true.
-- +goose StatementBegin
CREATE FUNCTION erasure_guard_check(consumer text, event_id text, customer text, placed_at timestamptz)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(hashtextextended('orderbus-erasure:' || customer, 0));
    IF NOT EXISTS (SELECT 1 FROM erasure_tombstones t WHERE t.customer_id = customer::uuid
            AND (placed_at IS NULL OR placed_at <= t.erased_before)) THEN
        RETURN false;
    END IF;
    INSERT INTO erasure_suppressed (consumer, event_id, customer_id)
        VALUES (consumer, event_id, customer::uuid) ON CONFLICT DO NOTHING;
    RETURN true;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION erasure_guard_check(text, text, text, timestamptz);
