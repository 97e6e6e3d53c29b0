-- Cancelling a shipped-to-be order after its reservation was committed gives the units back:
-- a committed reservation is "returned" once, recorded here (a column rather than a new state,
-- so the state's CHECK stays as it is on SQLite, which cannot alter a constraint in place).
ALTER TABLE reservations ADD COLUMN returned_at TIMESTAMPTZ;

-- The product's name when it was reserved: an order shows what the customer bought then.
ALTER TABLE reservation_items ADD COLUMN name TEXT NOT NULL DEFAULT '';
