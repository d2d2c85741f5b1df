-- +goose Up
-- When the reservation's order was placed: an erasure clears the customer
-- of reservations of orders placed up to its cut-off, and keeps a later
-- order's (NULL, on rows from before this column, counts as before any
-- cut-off).
ALTER TABLE reservations ADD COLUMN placed_at timestamptz;

-- +goose Down
ALTER TABLE reservations DROP COLUMN placed_at;
