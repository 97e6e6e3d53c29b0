-- The catalogue grows from a price list into what a shop lists, searches and reserves against.
-- SQLite cannot add a rowid alias to a table, and FTS5 needs a stable integer rowid to index
-- external content by, so the table is rebuilt with `seq` (a rowid alias: VACUUM keeps it).
CREATE TABLE catalogue (
    seq INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,
    sku TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    -- The name folded for sorting, computed in Rust: SQLite's lower() folds only ASCII.
    name_key TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    price_cents BIGINT NOT NULL CHECK (price_cents >= 0),
    currency TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('DRAFT', 'ACTIVE', 'ARCHIVED')),
    -- JSON arrays of strings; `product_categories` is the one filtered and counted on.
    categories TEXT NOT NULL DEFAULT '[]',
    images TEXT NOT NULL DEFAULT '[]',
    -- Units available to order, and units held by reservations not yet committed. The CHECKs
    -- are the last line: every write is conditional already, so they never fire in practice.
    stock BIGINT NOT NULL CHECK (stock >= 0),
    reserved BIGINT NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    version BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
INSERT INTO catalogue (id, sku, name, name_key, price_cents, currency, status, stock, version, created_at, updated_at)
SELECT id, 'SKU-' || upper(hex(id)), name, lower(name), price_cents, currency, 'ACTIVE', stock, version, created_at, created_at
FROM products;
DROP TABLE products;
ALTER TABLE catalogue RENAME TO products;

-- One index per sort order, each led by status (customers list only ACTIVE), each ending in id
-- so that (key, id) is unique and a keyset cursor resumes exactly where the page ended.
CREATE INDEX products_newest ON products (status, id);
CREATE INDEX products_price ON products (status, price_cents, id);
CREATE INDEX products_name ON products (status, name_key, id);

CREATE TABLE product_categories (
    category TEXT NOT NULL,
    product_id BLOB NOT NULL,
    PRIMARY KEY (category, product_id)
);
CREATE INDEX product_categories_product ON product_categories (product_id);

-- Full-text search on name and description, kept in step with `products` by triggers, so no
-- write path can forget it.
CREATE VIRTUAL TABLE products_fts USING fts5(
    name, description, content = 'products', content_rowid = 'seq',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER products_fts_insert AFTER INSERT ON products BEGIN
    INSERT INTO products_fts (rowid, name, description) VALUES (new.seq, new.name, new.description);
END;
CREATE TRIGGER products_fts_delete AFTER DELETE ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, name, description) VALUES ('delete', old.seq, old.name, old.description);
END;
CREATE TRIGGER products_fts_update AFTER UPDATE OF name, description ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, name, description) VALUES ('delete', old.seq, old.name, old.description);
    INSERT INTO products_fts (rowid, name, description) VALUES (new.seq, new.name, new.description);
END;
INSERT INTO products_fts (products_fts) VALUES ('rebuild');

-- Stock held for an order service. `fingerprint` is a hash of the items, so a retry with the
-- same id is recognised as the same request and a different one as a conflict.
CREATE TABLE reservations (
    id BLOB PRIMARY KEY NOT NULL,
    fingerprint TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('HELD', 'COMMITTED', 'RELEASED')),
    client TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX reservations_expiry ON reservations (state, expires_at);

-- The units and the price each product had when it was reserved: an order's price is this
-- snapshot, never what a client says.
CREATE TABLE reservation_items (
    reservation_id BLOB NOT NULL REFERENCES reservations (id),
    product_id BLOB NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    unit_price_cents BIGINT NOT NULL,
    currency TEXT NOT NULL,
    PRIMARY KEY (reservation_id, product_id)
);
