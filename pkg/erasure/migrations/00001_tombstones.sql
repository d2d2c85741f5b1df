-- +goose Up

-- One row per customer this service has erased: erased_before is the
-- cut-off of the latest erasure (its request time). Every effect about an
-- order placed up to it is suppressed (pkg/erasure Guard); an order placed
-- later is a new order. The customer id is the only thing kept: without
-- it the service could not keep the erasure.
CREATE TABLE erasure_tombstones (
    customer_id   uuid        PRIMARY KEY,
    erased_before timestamptz NOT NULL,
    erasure_id    uuid        NOT NULL,
    erased_at     timestamptz NOT NULL DEFAULT now()
);

-- Events acknowledged without their effect because they were about an
-- erased customer's order: the proof that the tombstone held, counted in a
-- verification. Ids only, no personal data.
CREATE TABLE erasure_suppressed (
    consumer      text        NOT NULL,
    event_id      text        NOT NULL,
    customer_id   uuid        NOT NULL,
    suppressed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

CREATE INDEX erasure_suppressed_customer_id ON erasure_suppressed (customer_id);

-- +goose Down
DROP TABLE erasure_suppressed;
DROP TABLE erasure_tombstones;
