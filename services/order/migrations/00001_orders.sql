-- +goose Up

-- Personal data (customer_name, customer_email, customer_phone) lives only in
-- orders, so an erasure has one table to scrub.
CREATE TABLE orders (
    id             uuid PRIMARY KEY,
    customer_id    uuid        NOT NULL,
    customer_name  text        NOT NULL,
    customer_email text        NOT NULL,
    customer_phone text        NOT NULL,
    status         text        NOT NULL CHECK (status IN ('pending', 'confirmed', 'rejected')),
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);

-- GET /v1/orders?customer_id= lists newest first.
CREATE INDEX orders_customer_id_created_at_idx ON orders (customer_id, created_at DESC);

CREATE TABLE order_items (
    order_id uuid    NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line     integer NOT NULL CHECK (line >= 1),
    sku      text    NOT NULL,
    quantity integer NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
    PRIMARY KEY (order_id, line),
    UNIQUE (order_id, sku)
);

-- One row per status the order has had, oldest first by (at, id).
CREATE TABLE order_history (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id uuid        NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    status   text        NOT NULL CHECK (status IN ('pending', 'confirmed', 'rejected')),
    at       timestamptz NOT NULL,
    note     text        NOT NULL DEFAULT ''
);

CREATE INDEX order_history_order_id_idx ON order_history (order_id, at, id);

-- The first answer to each Idempotency-Key, replayed to retries with the same
-- body. No foreign key to orders: the key must keep answering (with the
-- order's id) even if the order is ever deleted. The Location header is
-- derived from order_id.
CREATE TABLE idempotency_keys (
    key           text PRIMARY KEY,
    request_hash  bytea       NOT NULL,
    status_code   integer     NOT NULL,
    response_body bytea       NOT NULL,
    order_id      uuid        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE order_history;
DROP TABLE order_items;
DROP TABLE orders;
