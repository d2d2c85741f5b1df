-- +goose Up

-- One row per erasure request. customer_id is the only personal data the
-- gdpr service keeps: it is the subject of the erasure, and without it the
-- erasure could not be proven. These rows are the audit record and are
-- never deleted by the service.
CREATE TABLE erasures (
    id           uuid PRIMARY KEY,
    customer_id  uuid        NOT NULL,
    status       text        NOT NULL CHECK (status IN ('pending', 'completed')),
    requested_at timestamptz NOT NULL,
    completed_at timestamptz,
    CHECK ((status = 'completed') = (completed_at IS NOT NULL))
);

-- At most one open erasure per customer: a repeated request returns it.
CREATE UNIQUE INDEX erasures_one_open_per_customer ON erasures (customer_id) WHERE status = 'pending';
-- The metrics and the completion sweep look at open erasures only.
CREATE INDEX erasures_open_requested_at ON erasures (requested_at) WHERE status = 'pending';

-- Each participant's latest answer to an erasure. The participants are
-- fixed when the erasure is requested (GDPR_PARTICIPANTS at that time, in
-- its order: position).
CREATE TABLE erasure_participants (
    erasure_id  uuid        NOT NULL REFERENCES erasures (id),
    service     text        NOT NULL,
    position    integer     NOT NULL,
    state       text        NOT NULL CHECK (state IN ('pending', 'answered')),
    answered_at timestamptz,
    erased      jsonb,
    PRIMARY KEY (erasure_id, service),
    CHECK ((state = 'answered') = (answered_at IS NOT NULL AND erased IS NOT NULL))
);

-- Append-only history of every erasure: the request, each answer (a
-- participant that erases again adds one; erasure_participants keeps the
-- latest) and the completion. No personal data beyond the erasure id,
-- whose erasures row names the customer.
CREATE TABLE erasure_audit (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    erasure_id  uuid        NOT NULL REFERENCES erasures (id),
    action      text        NOT NULL CHECK (action IN ('requested', 'answered', 'completed')),
    at          timestamptz NOT NULL,
    service     text,
    erased      jsonb,
    event_id    text,
    recorded_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX erasure_audit_erasure_id ON erasure_audit (erasure_id, seq);

-- +goose Down
DROP TABLE erasure_audit;
DROP TABLE erasure_participants;
DROP TABLE erasures;
