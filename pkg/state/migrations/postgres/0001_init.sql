-- +goose Up
CREATE TABLE lethe_requests (
    id                TEXT PRIMARY KEY,
    type              TEXT NOT NULL,
    status            TEXT NOT NULL,
    tenant            TEXT NOT NULL DEFAULT '',
    email             TEXT,
    subject           TEXT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    due_at            TIMESTAMPTZ NOT NULL,
    extended_days     INTEGER NOT NULL DEFAULT 0,
    extension_reason  TEXT NOT NULL DEFAULT '',
    started_at        TIMESTAMPTZ,
    finished_at       TIMESTAMPTZ,
    attempts          INTEGER NOT NULL DEFAULT 0,
    counts            TEXT,
    verification      TEXT,
    error_code        TEXT,
    error_message     TEXT,
    idem_scope        TEXT,
    idem_key          TEXT,
    idem_hash         TEXT,
    registry_snapshot TEXT
);
CREATE UNIQUE INDEX lethe_requests_idem ON lethe_requests (idem_scope, idem_key) WHERE idem_key IS NOT NULL;
CREATE INDEX lethe_requests_created ON lethe_requests (created_at DESC, id DESC);
CREATE INDEX lethe_requests_status ON lethe_requests (status, due_at);
CREATE INDEX lethe_requests_tenant ON lethe_requests (tenant, created_at DESC);

CREATE TABLE lethe_request_steps (
    request_id TEXT NOT NULL REFERENCES lethe_requests (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    status     TEXT NOT NULL,
    count      BIGINT NOT NULL DEFAULT 0,
    detail     TEXT NOT NULL DEFAULT '',
    at         TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (request_id, name)
);

CREATE TABLE lethe_request_keys (
    request_id TEXT NOT NULL REFERENCES lethe_requests (id) ON DELETE CASCADE,
    set_name   TEXT NOT NULL,
    key        TEXT NOT NULL,
    PRIMARY KEY (request_id, set_name, key)
);

CREATE TABLE lethe_audit (
    seq        BIGINT PRIMARY KEY,
    at         TIMESTAMPTZ NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    request_id TEXT NOT NULL DEFAULT '',
    tenant     TEXT NOT NULL DEFAULT '',
    subject    TEXT NOT NULL DEFAULT '',
    details    TEXT NOT NULL DEFAULT '',
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE INDEX lethe_audit_request ON lethe_audit (request_id);

CREATE TABLE lethe_audit_head (
    id   INTEGER PRIMARY KEY,
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO lethe_audit_head (id, seq, hash) VALUES (1, 0, '');

CREATE TABLE lethe_tenant_keys (
    id          TEXT PRIMARY KEY,
    tenant      TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ
);
CREATE INDEX lethe_tenant_keys_tenant ON lethe_tenant_keys (tenant);
