-- +goose Up

-- erasure_guard_new is the check a new record about a customer (an order
-- being placed at placed_at) passes in its own transaction: it takes the
-- customer's erasure lock shared (the key of pkg/erasure's lockKey) and
-- fails with SQLSTATE OB001 when an erasure whose cut-off is at or after
-- placed_at has committed: the record would be erased already.
-- +goose StatementBegin
CREATE FUNCTION erasure_guard_new(customer uuid, placed_at timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(hashtextextended('orderbus-erasure:' || customer::text, 0));
    IF EXISTS (SELECT 1 FROM erasure_tombstones t WHERE t.customer_id = customer AND t.erased_before >= placed_at) THEN
        RAISE EXCEPTION 'the customer was erased up to this record''s time' USING ERRCODE = 'OB001';
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION erasure_guard_new(uuid, timestamptz);
