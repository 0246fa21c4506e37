-- +goose Up
-- Steps journaled before resume points moved into their own column kept
-- them in the detail, which tenants are shown, and a resume point can be
-- an application key (an email, when a table's key is the address). The
-- detail of every step of a request that has ended loses it now; a running
-- request still reads it there once to resume, and its end clears it. A
-- detail that is not JSON is left as it is rather than failing the upgrade.
-- +goose StatementBegin
DO $$
DECLARE s record;
BEGIN
    FOR s IN SELECT st.request_id, st.name, st.detail FROM lethe_request_steps st
             JOIN lethe_requests r ON r.id = st.request_id
             WHERE r.status IN ('completed', 'failed', 'cancelled', 'denied') AND st.detail LIKE '%"after"%'
    LOOP
        BEGIN
            UPDATE lethe_request_steps SET detail = (s.detail::jsonb - 'after')::text
            WHERE request_id = s.request_id AND name = s.name;
        EXCEPTION WHEN invalid_text_representation THEN NULL;
        END;
    END LOOP;
END $$;
-- +goose StatementEnd
