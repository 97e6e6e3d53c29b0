-- Step-up: when the user last proved who they are on this session, and how (an `amr`-style
-- list: "pwd", "mfa", "otp", "email").
ALTER TABLE sessions ADD COLUMN auth_time BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT '';

-- Device tokens (OWASP "device cookies"): a device that signed in before keeps its own failure
-- budget, so failures from elsewhere cannot lock it out. Only the hash is kept.
CREATE TABLE trusted_devices (
    token_hash BYTEA PRIMARY KEY NOT NULL,
    account_id UUID NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX trusted_devices_by_account ON trusted_devices (account_id);
