-- +goose Up

-- Idempotency keys are scoped to the customer that sent them: two
-- customers may use the same key for different orders, and one customer's
-- key never replays (nor reveals) another's order. Existing keys take
-- their order's customer; a key whose order is gone (erased) is dropped,
-- as the erasure would have dropped it.
ALTER TABLE idempotency_keys ADD COLUMN customer_id uuid;
UPDATE idempotency_keys k SET customer_id = o.customer_id FROM orders o WHERE o.id = k.order_id;
DELETE FROM idempotency_keys WHERE customer_id IS NULL;
ALTER TABLE idempotency_keys ALTER COLUMN customer_id SET NOT NULL;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys ADD PRIMARY KEY (customer_id, key);

-- +goose Down
DELETE FROM idempotency_keys a USING idempotency_keys b
    WHERE a.key = b.key AND (a.created_at, a.customer_id) > (b.created_at, b.customer_id);
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys ADD PRIMARY KEY (key);
ALTER TABLE idempotency_keys DROP COLUMN customer_id;
