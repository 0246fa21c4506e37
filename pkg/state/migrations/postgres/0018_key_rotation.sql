-- +goose Up
-- Key rotation (issue 18). Rows record a short fingerprint of the key they
-- were made with (dsr.KeyID: first 8 bytes of HMAC(key, "lethe key id"),
-- never the key), so that lethe keys rotate-check can count what still
-- depends on a key the operator wants to drop. NULL: made before.
ALTER TABLE lethe_requests ADD COLUMN subject_key TEXT;
ALTER TABLE lethe_holds ADD COLUMN subject_key TEXT;
ALTER TABLE lethe_exports ADD COLUMN key_id TEXT;
-- A tenant key replaced by a rotation stays valid until expires_at.
ALTER TABLE lethe_tenant_keys ADD COLUMN expires_at TIMESTAMPTZ;
