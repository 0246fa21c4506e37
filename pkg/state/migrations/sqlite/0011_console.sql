-- +goose Up
-- The owners' console: one-time sign-in links and sessions. Tokens are
-- kept only as their keyed hash, and owners only as the subject (HMAC) of
-- their address: nothing here names a person in clear.
CREATE TABLE lethe_console_links (
    token_hash TEXT PRIMARY KEY,
    tenant     TEXT NOT NULL,
    owner      TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL,
    used_at    DATETIME
);
CREATE INDEX lethe_console_links_expires ON lethe_console_links (expires_at);

-- actor is "admin" or "owner:<subject>"; tenant is '' for the admin.
CREATE TABLE lethe_console_sessions (
    token_hash   TEXT PRIMARY KEY,
    tenant       TEXT NOT NULL DEFAULT '',
    actor        TEXT NOT NULL,
    created_at   DATETIME NOT NULL,
    last_seen_at DATETIME NOT NULL,
    expires_at   DATETIME NOT NULL,
    revoked_at   DATETIME
);
CREATE INDEX lethe_console_sessions_tenant ON lethe_console_sessions (tenant);
CREATE INDEX lethe_console_sessions_expires ON lethe_console_sessions (expires_at);
