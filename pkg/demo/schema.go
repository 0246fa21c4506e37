package demo

// schema creates the demo application's tables. The table and column names are
// a contract: the demo registry (lethe.yaml) and the README tour name them.
// demo_meta comes last; its seeded_at row marks a finished seed.
var schema = []string{
	`CREATE TABLE studios (
		id   TEXT PRIMARY KEY,
		name TEXT NOT NULL
	)`,
	`CREATE TABLE users (
		id         INTEGER PRIMARY KEY,
		email      TEXT NOT NULL UNIQUE,
		name       TEXT,
		created_at TIMESTAMP NOT NULL
	)`,
	`CREATE TABLE chats (
		id         INTEGER PRIMARY KEY,
		studio_id  TEXT NOT NULL REFERENCES studios(id),
		user_id    INTEGER NOT NULL REFERENCES users(id),
		title      TEXT,
		created_at TIMESTAMP NOT NULL
	)`,
	`CREATE INDEX users_email_lower ON users(lower(email))`,
	`CREATE INDEX chats_user_id ON chats(user_id)`,
	`CREATE INDEX chats_studio_id ON chats(studio_id)`,
	`CREATE INDEX chats_created_at ON chats(created_at)`,
	`CREATE TABLE messages (
		id         INTEGER PRIMARY KEY,
		chat_id    INTEGER NOT NULL REFERENCES chats(id),
		role       TEXT NOT NULL,
		body       TEXT NOT NULL,
		created_at TIMESTAMP NOT NULL
	)`,
	`CREATE INDEX messages_chat_id ON messages(chat_id)`,
	`CREATE TABLE uploads (
		id          INTEGER PRIMARY KEY,
		chat_id     INTEGER NOT NULL REFERENCES chats(id),
		storage_key TEXT NOT NULL,
		filename    TEXT NOT NULL,
		created_at  TIMESTAMP NOT NULL
	)`,
	`CREATE INDEX uploads_chat_id ON uploads(chat_id)`,
	`CREATE INDEX uploads_created_at ON uploads(created_at)`,
	`CREATE TABLE newsletter (
		email         TEXT PRIMARY KEY,
		subscribed_at TIMESTAMP NOT NULL
	)`,
	`CREATE INDEX newsletter_email_lower ON newsletter(lower(email))`,
	`CREATE TABLE demo_meta (
		key   TEXT PRIMARY KEY,
		value TEXT NOT NULL
	)`,
}
