-- Credentials and the account's state. Times the database compares are epoch seconds (BIGINT),
-- so both backends compare numbers, never text.
ALTER TABLE accounts ADD COLUMN password_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT FALSE;
-- Locked by an admin (until unlocked) or disabled (sessions revoked, sign-in refused).
ALTER TABLE accounts ADD COLUMN admin_locked BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE accounts ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE accounts ADD COLUMN phone TEXT;
-- TOTP: the shared secret (an authenticator app needs it back, so it cannot be hashed), whether
-- it is confirmed, and the last time step accepted, so a code cannot be replayed in its window.
ALTER TABLE accounts ADD COLUMN totp_secret BYTEA;
ALTER TABLE accounts ADD COLUMN mfa_enabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE accounts ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;

CREATE TABLE account_roles (
    account_id UUID NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (account_id, role)
);

-- A session is one sign-in on one device; its refresh tokens form one family.
CREATE TABLE sessions (
    id UUID PRIMARY KEY NOT NULL,
    account_id UUID NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ip TEXT,
    user_agent TEXT,
    revoked_at BIGINT,
    revoke_reason TEXT
);
CREATE INDEX sessions_by_account ON sessions (account_id, created_at);

-- Refresh tokens by SHA-256 hash. `rotated_at` is set exactly once, by the refresh that wins.
CREATE TABLE refresh_tokens (
    token_hash BYTEA PRIMARY KEY NOT NULL,
    session_id UUID NOT NULL,
    issued_at BIGINT NOT NULL,
    rotated_at BIGINT
);
CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);

-- Consecutive failures per normalized identifier, known or not, and the lock they earned.
-- `failures` counts attempts as they start, so parallel guesses cannot all slip past the cap.
CREATE TABLE login_attempts (
    identifier TEXT PRIMARY KEY NOT NULL,
    failures BIGINT NOT NULL,
    locks BIGINT NOT NULL,
    locked_until BIGINT
);

-- Six-digit codes (email verification, one-time codes), stored as keyed HMACs.
CREATE TABLE one_time_codes (
    id UUID PRIMARY KEY NOT NULL,
    account_id UUID NOT NULL,
    purpose TEXT NOT NULL,
    destination TEXT NOT NULL,
    code_hash BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    used_at BIGINT
);
CREATE INDEX one_time_codes_by_account ON one_time_codes (account_id, purpose, created_at);

-- Password-reset tokens and MFA challenges: 256-bit random, stored as SHA-256.
CREATE TABLE reset_tokens (
    token_hash BYTEA PRIMARY KEY NOT NULL,
    account_id UUID NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE TABLE mfa_challenges (
    token_hash BYTEA PRIMARY KEY NOT NULL,
    account_id UUID NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    used_at BIGINT
);
CREATE TABLE recovery_codes (
    code_hash BYTEA PRIMARY KEY NOT NULL,
    account_id UUID NOT NULL,
    used_at BIGINT
);
CREATE INDEX recovery_codes_by_account ON recovery_codes (account_id);

-- Where an account has signed in from, to tell a new device or address.
CREATE TABLE known_devices (
    account_id UUID NOT NULL,
    fingerprint TEXT NOT NULL,
    first_seen BIGINT NOT NULL,
    PRIMARY KEY (account_id, fingerprint)
);

-- Fixed-window counters for per-IP and per-destination budgets, shared by every replica.
CREATE TABLE throttles (
    key TEXT PRIMARY KEY NOT NULL,
    window_start BIGINT NOT NULL,
    count BIGINT NOT NULL
);

-- The audit trail: sign-ins, lockouts, resets, role changes, revocations, MFA changes.
CREATE TABLE security_events (
    id UUID PRIMARY KEY NOT NULL,
    account_id UUID,
    kind TEXT NOT NULL,
    ip TEXT,
    user_agent TEXT,
    detail TEXT NOT NULL,
    occurred_at BIGINT NOT NULL
);
CREATE INDEX security_events_by_account ON security_events (account_id, id);

-- Server secrets that are not configured (the one-time-code HMAC key).
CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY NOT NULL,
    value BYTEA NOT NULL
);
