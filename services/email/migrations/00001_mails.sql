-- +goose Up
-- One row per mail this service handled, keyed by the event that caused it.
-- event_id is unique: a redelivered event finds its row and sends nothing.
CREATE TABLE mails (
    id          bigserial PRIMARY KEY,
    event_id    text        NOT NULL UNIQUE,
    kind        text        NOT NULL,               -- receipt (issue 3 adds apology)
    order_id    uuid        NOT NULL,
    customer_id uuid        NOT NULL,
    recipient   text        NOT NULL,               -- personal data: erased on request
    subject     text        NOT NULL,
    message_id  text        NOT NULL,               -- <event id@MAIL_DOMAIN>
    status      text        NOT NULL CHECK (status IN ('sent', 'failed')),
    error       text,                               -- why the SMTP server refused it (failed)
    attempts    integer     NOT NULL CHECK (attempts > 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz,
    CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);

CREATE INDEX mails_order_id_idx ON mails (order_id);
CREATE INDEX mails_customer_id_idx ON mails (customer_id);

-- +goose Down
DROP TABLE mails;
