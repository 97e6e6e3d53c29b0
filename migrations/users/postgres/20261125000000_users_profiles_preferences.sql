-- The rest of the profile. Validated by the subgraph (lengths, https URLs, IANA zones, BCP 47).
ALTER TABLE profiles ADD COLUMN bio TEXT;
ALTER TABLE profiles ADD COLUMN avatar_url TEXT;
ALTER TABLE profiles ADD COLUMN locale TEXT;
ALTER TABLE profiles ADD COLUMN timezone TEXT;

-- Settings, one row per user once they change one; until then the defaults apply. `channels` is
-- JSON ({"orderUpdates": {"email": true, ...}, ...}): one document, read and written whole.
-- `version` orders the PreferencesChanged events, so a projection can ignore a stale one.
CREATE TABLE preferences (
    user_id UUID PRIMARY KEY NOT NULL,
    channels TEXT NOT NULL,
    theme TEXT NOT NULL,
    language TEXT,
    version BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- Users who deleted their account: only the id, which points at nothing any more. A late event or
-- a token used straight against this subgraph (which does not see revocations) must not bring a
-- profile back.
CREATE TABLE erased_users (
    user_id UUID PRIMARY KEY NOT NULL
);
