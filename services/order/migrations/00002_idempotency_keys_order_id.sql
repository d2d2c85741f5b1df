-- +goose Up

-- An erasure deletes the idempotency keys of the customer's orders with
-- them (their request hash is a hash of the customer's details): this index
-- finds them by order.
CREATE INDEX idempotency_keys_order_id_idx ON idempotency_keys (order_id);

-- +goose Down
DROP INDEX idempotency_keys_order_id_idx;
