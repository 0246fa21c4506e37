-- +goose Up
-- Identities a request is filed with besides its email (issue 16): a JSON
-- object of normalised values by type, such as {"phone": "+447700900123"}.
-- Personal data: held and cleared with the email column.
ALTER TABLE lethe_requests ADD COLUMN identities TEXT;
