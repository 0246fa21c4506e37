-- +goose Up
-- The review gate: a held request keeps the plan it was filed with (JSON)
-- and, once approved, who approved it and when; a studio may require
-- approval of its erasures and access requests in its settings.
ALTER TABLE lethe_requests ADD COLUMN plan TEXT;
ALTER TABLE lethe_requests ADD COLUMN approved_by TEXT;
ALTER TABLE lethe_requests ADD COLUMN approved_at TIMESTAMPTZ;
ALTER TABLE lethe_tenant_settings ADD COLUMN approve_erasure BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE lethe_tenant_settings ADD COLUMN approve_access BOOLEAN NOT NULL DEFAULT FALSE;
