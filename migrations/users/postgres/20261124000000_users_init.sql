-- Profiles, one per user; created from AccountRegistered. `version` backs optimistic locking.
CREATE TABLE profiles (
    user_id UUID PRIMARY KEY NOT NULL,
    display_name TEXT,
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TIMESTAMPTZ NOT NULL
);
