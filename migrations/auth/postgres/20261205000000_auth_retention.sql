-- What auth's retention sweep filters on (tessera_auth::retention_rules).
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_revoked ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX one_time_codes_expires ON one_time_codes (expires_at);
CREATE INDEX reset_tokens_expires ON reset_tokens (expires_at);
CREATE INDEX mfa_challenges_expires ON mfa_challenges (expires_at);
CREATE INDEX trusted_devices_expires ON trusted_devices (expires_at);
CREATE INDEX throttles_window ON throttles (window_start);
CREATE INDEX security_events_occurred ON security_events (occurred_at);
