package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// mentionsMessages is the size of the mentions scan's table.
const mentionsMessages = 1_000_000

// mentionsRegistry is the mentions scan's application: one studio's
// chats and their messages, whose text may name people.
const mentionsRegistry = `
stores:
  app: {kind: sql, driver: postgres, dsn_env: APP_DSN}
collections:
  app.users:
    identity: {email: email}
    categories: {name: user.name}
    erasure: delete
  app.chats:
    tenant: studio_id
    references: {user_id: users.id}
    erasure: delete
  app.messages:
    references: {chat_id: chats.id}
    mentions: [body]
    erasure: delete
`

// mentionsScan: 1,000,000 messages of one studio, one in 10,000 naming
// Ada Lovelace (or writing her address), none of them in her own chats. Lethe's plan counts her mentions
// in other people's messages: a scan of the messages' text within the
// studio, matched in Go (names in four forms, case and accents folded, on
// word boundaries, her address). The baseline is the raw scan a script
// would run, SELECT id, body … WHERE body ILIKE '%lovelace%' OR body ILIKE
// '%ada@example.com%', read and discarded. Both are timed without an
// index, then (mentions_scan_trgm) with a pg_trgm GIN index on the text.
// The baseline uses that index; Lethe does not, for Ada has a name and a
// name's accent-folded forms cannot be found through a trigram index, so
// Lethe reads every row and the line shows what its exactness costs
// against an index-only script that would miss "Lovelacé".
func (b *bench) mentionsScan(ctx context.Context) (string, error) {
	d, drop, err := b.mentionsData(ctx)
	if err != nil {
		return "", err
	}
	defer drop()
	plain, err := b.timeMentions(ctx, d, "")
	if err != nil {
		return "", err
	}
	db, err := sql.Open("pgx", d)
	if err != nil {
		return "", err
	}
	defer db.Close()
	if _, err := b.admin.ExecContext(ctx, "CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"); err != nil {
		return plain + " trgm=unavailable", nil
	}
	if _, err := db.ExecContext(ctx, "CREATE INDEX messages_body_trgm ON messages USING gin (body public.gin_trgm_ops)"); err != nil {
		return "", err
	}
	if _, err := db.ExecContext(ctx, "ANALYZE messages"); err != nil {
		return "", err
	}
	indexed, err := b.timeMentions(ctx, d, "trgm_")
	if err != nil {
		return "", err
	}
	return plain + "\nbench: mentions_scan_trgm " + indexed, nil
}

// timeMentions times Lethe's count of Ada's mentions against the ILIKE
// scan, b.reps times each, and returns the line's fields.
func (b *bench) timeMentions(ctx context.Context, dsn, prefix string) (string, error) {
	reg, err := registry.Parse([]byte(mentionsRegistry))
	if err != nil {
		return "", err
	}
	st, err := sqlstore.Open("app", registry.DriverPostgres, dsn)
	if err != nil {
		return "", err
	}
	defer st.Close()
	eng := engine.New(reg, map[string]connector.Store{"app": st}, dsr.NewSubjectHasher([]byte("bench")))
	eng.RowBatch = 10000
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return "", err
	}
	defer db.Close()
	var ratios []float64
	var tl, tb time.Duration
	var found, raw int64
	for range b.reps {
		start := time.Now()
		p, err := eng.Plan(ctx, "ada@example.com", "studio")
		if err != nil {
			return "", err
		}
		l := time.Since(start)
		if found = p.Mentions[0].Count; found == 0 {
			return "", fmt.Errorf("the scan found no mention")
		}
		start = time.Now()
		if raw, err = ilikeScan(ctx, db); err != nil {
			return "", err
		}
		base := time.Since(start)
		ratios = append(ratios, float64(l)/float64(base))
		tl, tb = l, base
	}
	return fmt.Sprintf("ratio=%.2f %slethe_ms=%s %sbaseline_ms=%s messages=%d mentions=%d ilike_rows=%d", median(ratios),
		prefix, ms(tl), prefix, ms(tb), mentionsMessages, found, raw), nil
}

// ilikeScan is the baseline: the rows whose text holds Ada's surname or
// address, read and discarded.
func ilikeScan(ctx context.Context, db *sql.DB) (int64, error) {
	rows, err := db.QueryContext(ctx, `SELECT m.id, m.body FROM messages m JOIN chats c ON c.id = m.chat_id
		WHERE c.studio_id = 'studio' AND (m.body ILIKE '%lovelace%' OR m.body ILIKE '%ada@example.com%')`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int64
	for rows.Next() {
		var id int64
		var body string
		if err := rows.Scan(&id, &body); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// mentionsData creates the scan's schema and returns its URL and a
// function dropping it.
func (b *bench) mentionsData(ctx context.Context) (string, func(), error) {
	schema := "lethebench_mentions_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	drop := func() { b.admin.ExecContext(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE") }
	if _, err := b.admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", drop, err
	}
	u, err := url.Parse(b.base)
	if err != nil {
		return "", drop, err
	}
	q := u.Query()
	q.Set("search_path", schema+",public")
	u.RawQuery = q.Encode()
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		return "", drop, err
	}
	defer db.Close()
	for _, stmt := range []string{
		`CREATE TABLE users (id BIGINT PRIMARY KEY, email TEXT NOT NULL, name TEXT)`,
		`CREATE TABLE chats (id BIGINT PRIMARY KEY, studio_id TEXT NOT NULL, user_id BIGINT NOT NULL)`,
		`CREATE TABLE messages (id BIGINT PRIMARY KEY, chat_id BIGINT NOT NULL, body TEXT NOT NULL)`,
		`CREATE INDEX chats_user_id ON chats (user_id)`,
		`CREATE INDEX chats_studio_id ON chats (studio_id)`,
		`CREATE INDEX messages_chat_id ON messages (chat_id)`,
		`INSERT INTO users VALUES (1, 'ada@example.com', 'Ada Lovelace')`,
		`INSERT INTO users SELECT g, 'user' || g || '@example.com', 'User ' || g FROM generate_series(2, 1000) g`,
		`INSERT INTO chats SELECT g, 'studio', g / 10 + 1 FROM generate_series(1, 10000) g`,
		fmt.Sprintf(`INSERT INTO messages SELECT g, g %% 10000 + 1, CASE
			WHEN g %% 20000 = 5000 THEN 'My manager Ada Lovelace said the plan for week ' || g || ' is fine'
			WHEN g %% 20000 = 15000 THEN 'Please write to ada@example.com about item ' || g
			ELSE 'hello, this is message ' || g || ' about the weekly plan and the next steps' END
			FROM generate_series(1, %d) g`, mentionsMessages),
		`VACUUM ANALYZE users`, `VACUUM ANALYZE chats`, `VACUUM ANALYZE messages`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return "", drop, fmt.Errorf("%s: %w", strings.SplitN(stmt, "\n", 2)[0], err)
		}
	}
	return u.String(), drop, nil
}
