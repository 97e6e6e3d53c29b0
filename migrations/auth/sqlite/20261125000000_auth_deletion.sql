-- Deleted accounts stay as a tombstone (so the id is never reused and admins see that it went),
-- with every personal field replaced: the email and username by placeholders naming only the id.
ALTER TABLE accounts ADD COLUMN deleted_at BIGINT;
