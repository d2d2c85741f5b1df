-- +goose Up
-- When the mail's order was placed: an erasure erases the mails of orders
-- placed up to its cut-off, and keeps a later order's (NULL, on rows from
-- before this column, counts as before any cut-off).
ALTER TABLE mails ADD COLUMN placed_at timestamptz;

-- +goose Down
ALTER TABLE mails DROP COLUMN placed_at;
