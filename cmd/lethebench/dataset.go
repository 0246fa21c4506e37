package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
)

// dataset is one schema of the benchmark database holding the app tables.
type dataset struct {
	schema string
	url    string // the server URL with search_path set to schema
}

const benchRegistry = `
stores:
  app: {kind: sql, driver: postgres, dsn_env: LETHEBENCH_APP_URL}
collections:
  app.users:
    identity: {email: email}
    erasure: delete
  app.chats:
    references: {user_id: users.id}
    erasure: delete
  app.messages:
    references: {chat_id: chats.id}
    json: {body: ["author.email", "parts[*].text"]}
    erasure: delete
`

var ddl = []string{
	`CREATE TABLE users (id BIGINT PRIMARY KEY, email TEXT NOT NULL, name TEXT)`,
	`CREATE INDEX users_email_lower ON users (lower(email))`,
	`CREATE TABLE chats (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL REFERENCES users(id), title TEXT)`,
	`CREATE INDEX chats_user_id ON chats (user_id)`,
	`CREATE TABLE messages (id BIGINT PRIMARY KEY, chat_id BIGINT NOT NULL REFERENCES chats(id), body TEXT NOT NULL)`,
	`CREATE INDEX messages_chat_id ON messages (chat_id)`,
}

// shape is how much data a dataset holds: users with ids 1..users, each with
// chats chats of messages messages, except user 1 (the heavy subject) who
// has heavyChats chats of heavyMessages messages when heavyChats > 0.
type shape struct {
	users, chats, messages    int
	heavyChats, heavyMessages int
}

// create makes a fresh schema on the server at base and fills it.
func create(ctx context.Context, admin *sql.DB, base, schema string, s shape) (*dataset, error) {
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return nil, fmt.Errorf("create schema %s: %w", schema, err)
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	d := &dataset{schema: schema, url: u.String()}
	stmts := append([]string(nil), ddl...)
	stmts = append(stmts,
		fmt.Sprintf(`INSERT INTO users SELECT g, 'user' || g || '@example.com', 'User ' || g FROM generate_series(1, %d) g`, s.users),
		// chat id = user * 1000 + k; message id = chat * 100000 + m
		fmt.Sprintf(`INSERT INTO chats SELECT u * 1000 + k, u, 'chat' FROM generate_series(1, %d) u, generate_series(1, %d) k
			WHERE u > 1 OR %d = 0`, s.users, s.chats, s.heavyChats),
		fmt.Sprintf(`INSERT INTO messages SELECT c.id * 100000 + m, c.id,
				'{"author":{"email":"user' || c.user_id || '@example.com","name":"n"},"parts":[{"text":"hello, this is message ' || m || '"}]}'
			FROM chats c, generate_series(1, %d) m`, s.messages))
	if s.heavyChats > 0 {
		stmts = append(stmts,
			fmt.Sprintf(`INSERT INTO chats SELECT 1000 + k, 1, 'chat' FROM generate_series(1, %d) k`, s.heavyChats),
			fmt.Sprintf(`INSERT INTO messages SELECT c.id * 100000 + m, c.id,
				'{"author":{"email":"user1@example.com","name":"n"},"parts":[{"text":"hello, this is message ' || m || '"}]}'
			FROM chats c, generate_series(1, %d) m WHERE c.user_id = 1`, s.heavyMessages))
	}
	stmts = append(stmts, "VACUUM ANALYZE users", "VACUUM ANALYZE chats", "VACUUM ANALYZE messages")
	db, err := sql.Open("pgx", d.url)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	for _, stmt := range stmts {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", schema, strings.SplitN(strings.TrimSpace(stmt), "\n", 2)[0], err)
		}
	}
	return d, nil
}

// baseline is the raw-SQL erasure of one subject: the three deletes a
// hand-written script would run, children first, in one transaction.
func baseline(ctx context.Context, db *sql.DB, email string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, stmt := range []string{
		`DELETE FROM messages WHERE chat_id IN (SELECT id FROM chats WHERE user_id IN (SELECT id FROM users WHERE lower(email) = lower($1)))`,
		`DELETE FROM chats WHERE user_id IN (SELECT id FROM users WHERE lower(email) = lower($1))`,
		`DELETE FROM users WHERE lower(email) = lower($1)`,
	} {
		if _, err := tx.ExecContext(ctx, stmt, email); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// count returns the rows of table in d.
func (d *dataset) count(ctx context.Context, db *sql.DB, table string) (int64, error) {
	var n int64
	err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n)
	return n, err
}
