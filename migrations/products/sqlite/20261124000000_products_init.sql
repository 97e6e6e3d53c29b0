-- The catalogue. Prices are integer minor units (cents) to keep money exact.
-- `version` backs optimistic locking of stock and price changes.
CREATE TABLE products (
    id BLOB PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    price_cents BIGINT NOT NULL CHECK (price_cents >= 0),
    currency TEXT NOT NULL,
    stock BIGINT NOT NULL CHECK (stock >= 0),
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);
