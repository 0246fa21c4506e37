-- +goose Up
CREATE TABLE lethe_exports (
    request_id TEXT PRIMARY KEY,
    tenant     TEXT NOT NULL DEFAULT '',
    object     TEXT NOT NULL,
    size       BIGINT NOT NULL DEFAULT 0,
    entries    INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ
);
CREATE INDEX lethe_exports_expiry ON lethe_exports (expires_at) WHERE deleted_at IS NULL;
