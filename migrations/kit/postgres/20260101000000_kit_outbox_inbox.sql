-- The transactional outbox: an event is written here in the same transaction as the change it
-- describes, and a relay publishes it to the bus afterwards. Times are epoch milliseconds, which
-- compare the same way on both backends.
CREATE TABLE outbox (
    id UUID PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    published_at BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE published_at IS NULL;

-- The inbox: the events each consumer has already applied, so a redelivery does nothing.
CREATE TABLE inbox (
    consumer TEXT NOT NULL,
    event_id UUID NOT NULL,
    handled_at BIGINT NOT NULL,
    PRIMARY KEY (consumer, event_id)
);
