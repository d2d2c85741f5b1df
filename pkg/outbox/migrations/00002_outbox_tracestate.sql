-- +goose Up
-- The W3C tracestate that goes with traceparent: both are the trace
-- context of the transaction that enqueued the event, stored with it so
-- that the relay's publish, however late, continues the same trace.
ALTER TABLE outbox ADD COLUMN tracestate text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE outbox DROP COLUMN tracestate;
