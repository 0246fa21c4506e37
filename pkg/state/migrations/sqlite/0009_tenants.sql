-- +goose Up
-- Registered studios (issue 12). Only a slug registered here is accepted
-- where a tenant is named. owner_emails is a JSON array of folded
-- addresses; brand_color is "#rrggbb" or ''.
CREATE TABLE lethe_tenants (
    slug            TEXT PRIMARY KEY,
    display_name    TEXT NOT NULL,
    legal_name      TEXT NOT NULL DEFAULT '',
    privacy_contact TEXT NOT NULL DEFAULT '',
    owner_emails    TEXT NOT NULL DEFAULT '[]',
    brand_color     TEXT NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL,
    updated_by      TEXT NOT NULL DEFAULT ''
);

-- A deployment from before registration keeps working: every tenant its
-- requests, keys, settings, holds or packages already name is registered,
-- with its slug as display name, for the admin to complete with PUT.
INSERT INTO lethe_tenants (slug, display_name, created_at, updated_at, updated_by)
SELECT tenant, tenant, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'migration'
FROM (
    SELECT tenant FROM lethe_requests
    UNION SELECT tenant FROM lethe_tenant_keys
    UNION SELECT tenant FROM lethe_tenant_settings
    UNION SELECT tenant FROM lethe_holds
    UNION SELECT tenant FROM lethe_exports
) AS named
WHERE tenant <> '';
