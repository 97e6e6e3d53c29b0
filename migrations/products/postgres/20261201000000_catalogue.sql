-- The catalogue grows from a price list into what a shop lists, searches and reserves against.
ALTER TABLE products
    ADD COLUMN sku TEXT,
    -- The name folded for sorting, computed in Rust so both backends fold alike.
    ADD COLUMN name_key TEXT,
    ADD COLUMN description TEXT NOT NULL DEFAULT '',
    ADD COLUMN status TEXT NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('DRAFT', 'ACTIVE', 'ARCHIVED')),
    -- JSON arrays of strings; `product_categories` is the one filtered and counted on.
    ADD COLUMN categories TEXT NOT NULL DEFAULT '[]',
    ADD COLUMN images TEXT NOT NULL DEFAULT '[]',
    -- Units held by reservations not yet committed. `stock` is what is left to order; the
    -- CHECKs are the last line: every write is conditional already.
    ADD COLUMN reserved BIGINT NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    ADD COLUMN updated_at TIMESTAMPTZ;
UPDATE products SET sku = 'SKU-' || upper(replace(id::text, '-', '')), name_key = lower(name), updated_at = created_at;
ALTER TABLE products
    ALTER COLUMN sku SET NOT NULL,
    ALTER COLUMN name_key SET NOT NULL,
    ALTER COLUMN updated_at SET NOT NULL,
    ALTER COLUMN status DROP DEFAULT,
    ADD CONSTRAINT products_sku_key UNIQUE (sku);
-- Byte order for the sort key, as SQLite compares: the database's locale must not reorder pages.
ALTER TABLE products ALTER COLUMN name_key TYPE TEXT COLLATE "C";

-- Full-text search: the name weighs A, the description B, so ts_rank puts a name match first.
-- ts_rank reads only the row itself (no corpus statistics), so a rank does not move when other
-- products are added, which keeps relevance cursors stable.
ALTER TABLE products ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', name), 'A') || setweight(to_tsvector('english', description), 'B')
) STORED;
CREATE INDEX products_search ON products USING GIN (search);

-- One index per sort order, each led by status (customers list only ACTIVE), each ending in id
-- so that (key, id) is unique and a keyset cursor resumes exactly where the page ended.
CREATE INDEX products_newest ON products (status, id);
CREATE INDEX products_price ON products (status, price_cents, id);
CREATE INDEX products_name ON products (status, name_key, id);

CREATE TABLE product_categories (
    category TEXT NOT NULL,
    product_id UUID NOT NULL,
    PRIMARY KEY (category, product_id)
);
CREATE INDEX product_categories_product ON product_categories (product_id);

-- Stock held for an order service. `fingerprint` is a hash of the items, so a retry with the
-- same id is recognised as the same request and a different one as a conflict.
CREATE TABLE reservations (
    id UUID PRIMARY KEY NOT NULL,
    fingerprint TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('HELD', 'COMMITTED', 'RELEASED')),
    client TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX reservations_expiry ON reservations (state, expires_at);

-- The units and the price each product had when it was reserved: an order's price is this
-- snapshot, never what a client says.
CREATE TABLE reservation_items (
    reservation_id UUID NOT NULL REFERENCES reservations (id),
    product_id UUID NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    unit_price_cents BIGINT NOT NULL,
    currency TEXT NOT NULL,
    PRIMARY KEY (reservation_id, product_id)
);
