-- +goose Up
CREATE TABLE lethe_retention_runs (
    id               TEXT PRIMARY KEY,
    status           TEXT NOT NULL,
    dry_run          BOOLEAN NOT NULL DEFAULT FALSE,
    trigger          TEXT NOT NULL,
    actor            TEXT NOT NULL,
    as_of            TIMESTAMPTZ NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    started_at       TIMESTAMPTZ,
    finished_at      TIMESTAMPTZ,
    heartbeat_at     TIMESTAMPTZ,
    resumes          TEXT NOT NULL DEFAULT '',
    resumed_by       TEXT NOT NULL DEFAULT '',
    counts           TEXT NOT NULL DEFAULT '[]',
    cursor           TEXT NOT NULL DEFAULT '{}',
    error_code       TEXT,
    error_message    TEXT,
    registry_version TEXT NOT NULL DEFAULT ''
);
CREATE INDEX lethe_retention_runs_created ON lethe_retention_runs (created_at DESC, id DESC);
-- At most one real sweep is queued or running, whichever replica started it.
CREATE UNIQUE INDEX lethe_retention_runs_one_active ON lethe_retention_runs ((1)) WHERE status IN ('queued', 'running') AND NOT dry_run;

CREATE TABLE lethe_retention_files (
    run_id     TEXT NOT NULL REFERENCES lethe_retention_runs (id) ON DELETE CASCADE,
    store      TEXT NOT NULL,
    key        TEXT NOT NULL,
    collection TEXT NOT NULL,
    status     TEXT NOT NULL,
    PRIMARY KEY (run_id, store, key)
);
CREATE INDEX lethe_retention_files_pending ON lethe_retention_files (status, store);

CREATE TABLE lethe_holds (
    id          TEXT PRIMARY KEY,
    tenant      TEXT NOT NULL DEFAULT '',
    subject     TEXT NOT NULL DEFAULT '',
    email       TEXT,
    reason      TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    created_by  TEXT NOT NULL,
    released_at TIMESTAMPTZ,
    released_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX lethe_holds_active ON lethe_holds (released_at, subject);

CREATE TABLE lethe_tenant_settings (
    tenant            TEXT PRIMARY KEY,
    retention         TEXT NOT NULL DEFAULT '{}',
    collect_responses BOOLEAN NOT NULL DEFAULT TRUE,
    obfuscate_history BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at        TIMESTAMPTZ NOT NULL,
    updated_by        TEXT NOT NULL
);
