-- Profiles, one per user; created from AccountRegistered. `version` backs optimistic locking.
CREATE TABLE profiles (
    user_id BLOB PRIMARY KEY NOT NULL,
    display_name TEXT,
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL
);
