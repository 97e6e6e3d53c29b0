-- Orders and their items. Item prices are copied at order time: later catalogue changes
-- must not rewrite what the customer paid.
CREATE TABLE orders (
    id BLOB PRIMARY KEY NOT NULL,
    user_id BLOB NOT NULL,
    status TEXT NOT NULL,
    total_cents BIGINT NOT NULL,
    currency TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX orders_by_user ON orders (user_id, id);

CREATE TABLE order_items (
    order_id BLOB NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id BLOB NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    unit_price_cents BIGINT NOT NULL,
    PRIMARY KEY (order_id, product_id)
);
