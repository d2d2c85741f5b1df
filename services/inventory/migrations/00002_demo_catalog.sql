-- +goose Up

-- The demo catalog, so that a fresh system can take orders at once
-- (README, scripts/place-order.sh). Existing rows are left alone: the
-- levels belong to the shop once it runs; PUT /v1/stock/{sku} changes them.
INSERT INTO stock (sku, name, available) VALUES
    ('ESPRESSO-1KG',     'Espresso beans, 1 kg', 100),
    ('MUG-WHITE',        'White mug',            200),
    ('FILTER-PAPER-100', 'Filter papers, 100',   500),
    ('GRINDER-HAND',     'Hand grinder',          20),
    ('KETTLE-GOOSENECK', 'Gooseneck kettle',      15),
    ('TEA-SENCHA-250G',  'Sencha tea, 250 g',     50),
    ('DRIPPER-V60',      'Pour-over dripper',     40),
    ('SCALE-COFFEE',     'Coffee scale',          25)
ON CONFLICT (sku) DO NOTHING;

-- +goose Down
-- The levels may have changed since; the demo rows go all the same.
DELETE FROM stock WHERE sku IN ('ESPRESSO-1KG', 'MUG-WHITE', 'FILTER-PAPER-100', 'GRINDER-HAND',
    'KETTLE-GOOSENECK', 'TEA-SENCHA-250G', 'DRIPPER-V60', 'SCALE-COFFEE');
