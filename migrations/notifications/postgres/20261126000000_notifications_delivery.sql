-- Order notifications point at their order, so a subscriber can ask for its items.
ALTER TABLE notifications ADD COLUMN order_id UUID;
CREATE INDEX notifications_unread ON notifications (user_id, id) WHERE read_at IS NULL;

-- What this subgraph knows of each user, from the events: where to write, and in which language.
-- Kept current by AccountRegistered, PhoneVerified and PreferencesChanged; erased by AccountDeleted.
-- `channels` is the PreferencesChanged document; NULL means the defaults. `version` is the
-- preferences' version, so a late, older event cannot overwrite a newer one.
CREATE TABLE recipients (
    user_id UUID PRIMARY KEY NOT NULL,
    email TEXT,
    phone TEXT,
    username TEXT,
    language TEXT,
    channels TEXT,
    version BIGINT NOT NULL DEFAULT 0
);

-- Every message sent, or to be sent, by email, SMS or in-app push. `preview` is the text with
-- codes and links redacted: the history anyone reads. `sealed` is the real message, encrypted
-- (AES-256-GCM under the key in `seal_keys`), kept only until it is sent or given up on.
-- Times are epoch milliseconds, which compare the same way on both backends.
CREATE TABLE deliveries (
    id UUID PRIMARY KEY NOT NULL,
    user_id UUID,
    notification_id UUID,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    preview TEXT NOT NULL,
    sealed BYTEA,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'PENDING';
CREATE INDEX deliveries_by_user ON deliveries (user_id);
CREATE INDEX deliveries_by_status ON deliveries (status, id);

-- The key pending messages are sealed under: made on first start, one row.
CREATE TABLE seal_keys (
    id INTEGER PRIMARY KEY NOT NULL,
    key_bytes BYTEA NOT NULL
);

-- Users who deleted their account: only the id. An event about them that arrives late (another
-- subgraph's outbox is not ordered with auth's) must not bring a message or a contact back.
CREATE TABLE erased_users (
    user_id UUID PRIMARY KEY NOT NULL
);
