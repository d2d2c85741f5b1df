-- +goose Up
-- One row per SMS this service handled, keyed by the event that caused it.
-- event_id is unique: a redelivered event finds its row and sends nothing.
-- customer_id is on every row, so a customer's data can be erased by it.
CREATE TABLE messages (
    id          bigserial PRIMARY KEY,
    event_id    text        NOT NULL UNIQUE,
    order_id    uuid        NOT NULL,
    customer_id uuid        NOT NULL,
    to_number   text        NOT NULL,               -- E.164; personal data: erased on request
    body        text        NOT NULL,
    provider    text        NOT NULL,               -- log, webhook or twilio
    provider_id text,                               -- the provider's message id (sent)
    status      text        NOT NULL CHECK (status IN ('sent', 'failed')),
    error       text,                               -- why the provider refused it (failed)
    attempts    integer     NOT NULL CHECK (attempts > 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz,
    CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);

-- GET /v1/messages?to= lists a number's messages, newest first.
CREATE INDEX messages_to_number_created_at_idx ON messages (to_number, created_at DESC);
CREATE INDEX messages_customer_id_idx ON messages (customer_id);

-- +goose Down
DROP TABLE messages;
