-- Accounts: the identity every other subgraph refers to by id (UUIDv7).
CREATE TABLE accounts (
    id BLOB PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    username TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

-- Ed25519 signing keys. Retired keys stay (and stay published) until every token they signed
-- has expired. The seed is the private key: the store must be protected like a password file.
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    seed BLOB NOT NULL,
    created_at TEXT NOT NULL,
    retired_at TEXT
);
