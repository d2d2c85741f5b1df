-- +goose Up
-- When the message's order was placed: an erasure erases the messages of
-- orders placed up to its cut-off, and keeps a later order's (NULL, on rows
-- from before this column, counts as before any cut-off).
ALTER TABLE messages ADD COLUMN placed_at timestamptz;

-- +goose Down
ALTER TABLE messages DROP COLUMN placed_at;
