-- Checkout: orders become sagas (DESIGN.md). Nothing could create an order before this, so the
-- first tables are replaced rather than altered.
DROP TABLE order_items;
DROP TABLE orders;

CREATE TABLE orders (
    id UUID PRIMARY KEY NOT NULL,
    -- Short and readable, for people (support calls, emails); the id stays the key.
    number TEXT NOT NULL UNIQUE,
    user_id UUID NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ('PENDING', 'CONFIRMED', 'SHIPPED', 'DELIVERED', 'CANCELLED', 'REJECTED')),
    -- Known once products reserved the items (prices come from there, never from the client).
    currency TEXT NOT NULL DEFAULT '',
    subtotal_cents BIGINT NOT NULL DEFAULT 0,
    total_cents BIGINT NOT NULL DEFAULT 0,
    -- The call orders still owes products for this order's reservation (COMMIT, RELEASE or
    -- RETURN), NULL when none: written with the change that makes it due, cleared once products
    -- acknowledged, retried by the sweep until then. So a crash between the two loses nothing.
    settlement TEXT CHECK (settlement IN ('COMMIT', 'RELEASE', 'RETURN')),
    -- Whether products committed the reservation: a cancel then returns units instead of releasing.
    committed BOOLEAN NOT NULL DEFAULT FALSE,
    -- The refusal placeOrder answered (JSON), so a retry with the same key answers the same.
    rejection TEXT,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX orders_by_user ON orders (user_id, id);
CREATE INDEX orders_by_user_status ON orders (user_id, status, id);
-- A customer's orders of the last hour (the per-customer budget).
CREATE INDEX orders_by_user_time ON orders (user_id, created_at);
CREATE INDEX orders_by_status ON orders (status, id);
CREATE INDEX orders_to_settle ON orders (updated_at) WHERE settlement IS NOT NULL;
CREATE INDEX orders_pending ON orders (updated_at) WHERE status = 'PENDING';

-- Each line as ordered; name and price are the snapshot products took when it reserved them.
CREATE TABLE order_items (
    order_id UUID NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id UUID NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    name TEXT NOT NULL DEFAULT '',
    unit_price_cents BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (order_id, product_id)
);
CREATE INDEX order_items_by_product ON order_items (product_id);

-- Every status an order had, keyed by the version the change made.
CREATE TABLE order_history (
    order_id UUID NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    status TEXT NOT NULL,
    -- CUSTOMER, ADMIN or SYSTEM (the saga and its sweep), and who when a person.
    actor TEXT NOT NULL,
    actor_id UUID,
    reason TEXT,
    at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (order_id, version)
);

-- A user's idempotency keys for placeOrder, kept 24 hours.
CREATE TABLE idempotency_keys (
    user_id UUID NOT NULL,
    idempotency_key TEXT NOT NULL,
    -- SHA-256 of the items: the same key with other items is a conflict, not a replay.
    fingerprint TEXT NOT NULL,
    order_id UUID NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, idempotency_key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);
