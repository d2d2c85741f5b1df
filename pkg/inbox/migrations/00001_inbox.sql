-- +goose Up
-- One row per message a consumer has processed, written in the same
-- transaction as the message's effect, so a redelivery is recognised.
CREATE TABLE inbox (
    consumer    text        NOT NULL,
    message_id  text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, message_id)
);

-- Lets an operator prune old rows: DELETE FROM inbox WHERE received_at < ...
CREATE INDEX inbox_received_at ON inbox (received_at);

-- +goose Down
DROP TABLE inbox;
