-- +goose Up
-- Events waiting to be published, inserted in the same transaction as the
-- business change they announce, and deleted once JetStream has acked them.
-- seq orders them oldest first; id (the event id, sent as Nats-Msg-Id) is
-- unique so an event cannot wait twice. The event_* columns and data hold
-- the CloudEvents attributes and body exactly as the relay will send them.
CREATE TABLE outbox (
    seq           bigserial   PRIMARY KEY,
    id            text        NOT NULL UNIQUE,
    subject       text        NOT NULL,
    source        text        NOT NULL,
    type          text        NOT NULL,
    event_subject text        NOT NULL DEFAULT '',
    event_time    timestamptz,
    traceparent   text        NOT NULL DEFAULT '',
    data          bytea,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE outbox;
