-- +goose Up
-- Steps journaled before resume points moved into their own column kept
-- them in the detail, which tenants are shown, and a resume point can be
-- an application key (an email, when a table's key is the address). The
-- detail of every step of a request that has ended loses it now; a running
-- request still reads it there once to resume, and its end clears it.
UPDATE lethe_request_steps SET detail = json_remove(detail, '$.after')
WHERE json_valid(detail) AND json_type(detail, '$.after') IS NOT NULL
  AND request_id IN (SELECT id FROM lethe_requests WHERE status IN ('completed', 'failed', 'cancelled', 'denied'));
