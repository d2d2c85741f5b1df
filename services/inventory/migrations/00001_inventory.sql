-- +goose Up

-- One row per SKU the shop sells. available is what can still be reserved;
-- the CHECK is the last line of defence: a reservation that would take more
-- than is there fails instead of overselling.
CREATE TABLE stock (
    sku        text PRIMARY KEY CHECK (sku ~ '^[A-Z0-9][A-Z0-9-]{1,31}$'),
    name       text        NOT NULL DEFAULT '',
    available  integer     NOT NULL CHECK (available >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per order the service has decided on: its primary key is what
-- makes "never reserve twice for one order" hold. customer_id is the only
-- personal data here (the SKUs are not); it is nullable so that an erasure
-- can clear it and keep the reservation.
CREATE TABLE reservations (
    order_id     uuid PRIMARY KEY,
    customer_id  uuid,
    status       text        NOT NULL CHECK (status IN ('reserved', 'rejected')),
    missing_skus text[]      NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'reserved') = (cardinality(missing_skus) = 0))
);

CREATE INDEX reservations_customer_id_idx ON reservations (customer_id);

-- What a reserved order took from stock, one row per SKU. Rejected orders
-- took nothing and have no lines. No foreign key to stock: the lines are
-- history and must survive a SKU's removal from the catalog.
CREATE TABLE reservation_lines (
    order_id uuid    NOT NULL REFERENCES reservations (order_id) ON DELETE CASCADE,
    sku      text    NOT NULL,
    quantity integer NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, sku)
);

-- +goose Down
DROP TABLE reservation_lines;
DROP TABLE reservations;
DROP TABLE stock;
