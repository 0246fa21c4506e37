-- +goose Up
-- OpenDSR (issue 14). lethe_requests.source marks requests that came in
-- other than through the API ("opendsr"); "" for the API.
ALTER TABLE lethe_requests ADD COLUMN source TEXT NOT NULL DEFAULT '';

-- The OpenDSR side of a request: the controller's id, its callback URLs
-- and the Lethe status whose callbacks are queued. No identity is kept
-- here. request_id is NULL when a hashed identity matched nobody.
CREATE TABLE lethe_opendsr_requests (
    subject_request_id TEXT PRIMARY KEY,
    request_id         TEXT REFERENCES lethe_requests (id) ON DELETE SET NULL,
    tenant             TEXT NOT NULL,
    controller_id      TEXT NOT NULL,
    type               TEXT NOT NULL,
    regulation         TEXT NOT NULL,
    legacy             BOOLEAN NOT NULL DEFAULT FALSE,
    callback_urls      TEXT NOT NULL,
    received_at        TIMESTAMPTZ NOT NULL,
    expected_at        TIMESTAMPTZ NOT NULL,
    notified_status    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX lethe_opendsr_requests_request ON lethe_opendsr_requests (request_id);
CREATE INDEX lethe_opendsr_requests_notified ON lethe_opendsr_requests (notified_status);
