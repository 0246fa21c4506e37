-- +goose Up
-- The language a studio speaks to people by default (a tag such as "de",
-- '' for Lethe's default), and the language a person used on the privacy
-- page, so that the mails that follow speak it too.
ALTER TABLE lethe_tenants ADD COLUMN language TEXT NOT NULL DEFAULT '';
ALTER TABLE lethe_self_requests ADD COLUMN language TEXT NOT NULL DEFAULT '';
