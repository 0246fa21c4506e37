-- +goose Up
-- End-user self-service (issue 7). A self-service request keeps here its
-- verification code, as an HMAC keyed with the server's subject key (six
-- digits hashed bare would be reversed by trying all million), and its
-- address as an outbox: kept until the closing notice is sent, then NULL.
CREATE TABLE lethe_self_requests (
    request_id      TEXT PRIMARY KEY REFERENCES lethe_requests (id) ON DELETE CASCADE,
    email           TEXT,
    code_hash       TEXT,
    code_expires_at TIMESTAMPTZ NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL,
    verified_at     TIMESTAMPTZ
);
CREATE INDEX lethe_self_requests_outbox ON lethe_self_requests (verified_at) WHERE email IS NOT NULL;

-- Download links of access packages, by the HMAC of their random token.
CREATE TABLE lethe_self_links (
    token_hash TEXT PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES lethe_requests (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX lethe_self_links_request ON lethe_self_links (request_id);

-- Fixed-window rate limits shared by every replica; bucket is an HMAC of
-- what is limited (an IP address, an email), never the value itself.
CREATE TABLE lethe_self_limits (
    bucket       TEXT PRIMARY KEY,
    window_start TIMESTAMPTZ NOT NULL,
    hits         INTEGER NOT NULL
);
