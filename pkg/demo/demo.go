package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"time"

	// Registers the pure-Go "sqlite" database/sql driver (no cgo), the same
	// driver the gorm dialector github.com/glebarez/sqlite uses.
	_ "github.com/glebarez/go-sqlite"

	"github.com/lethe-privacy/lethe/pkg/private"
)

// Demo is a seeded demo application on disk.
type Demo struct {
	// DBPath is the absolute path of the application's SQLite database (app.db).
	DBPath string
	// UploadsDir is the absolute path of the upload store; each uploads row's
	// storage_key is a path relative to it.
	UploadsDir string
	// Users are the demo's end users in id order.
	Users []User
}

// User is one end user of the demo application.
type User struct {
	// ID is the users.id primary key.
	ID int64
	// Email is the user's identity, as the README tour names it.
	Email string
	// Name is the user's display name.
	Name string
	// Studio is the id of the studio (tenant) of the user's first chat, the one
	// to use for a tenant-scoped request about this user. Some users also have
	// chats in the other studio.
	Studio string
}

// Seed creates the demo application in dir, stamped with the current time. See SeedAt.
func Seed(ctx context.Context, dir string) (*Demo, error) {
	return SeedAt(ctx, dir, time.Now())
}

// SeedAt creates dir (if needed), the SQLite database dir/app.db and the upload
// store dir/uploads/, and fills them with the demo data, all timestamps within
// the 60 days before now. It is idempotent: if dir/app.db is already seeded it
// changes nothing and returns the Demo read back from it, so repeated calls
// return equal values. Concurrent calls on one dir are serialised by SQLite.
//
// SeedAt returns an error if dir cannot be created, if an unseeded app.db
// already holds tables with the demo's names (another application's database),
// or if writing fails. On error the transaction is rolled back and the upload
// files it wrote are removed, so the directory is never taken as seeded.
func SeedAt(ctx context.Context, dir string, now time.Time) (*Demo, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("demo: seed %s: %w", dir, err)
	}
	d := &Demo{
		DBPath:     filepath.Join(abs, "app.db"),
		UploadsDir: filepath.Join(abs, "uploads"),
	}
	// The demo's people are made up, but it is the data Lethe is shown
	// with: owner-only like real data (0700 folders, 0600 files), what an
	// earlier run left included.
	if err := private.Tree(abs); err != nil {
		return nil, fmt.Errorf("demo: seed %s: %w", abs, err)
	}
	if err := private.Dir(d.UploadsDir); err != nil {
		return nil, fmt.Errorf("demo: seed %s: %w", abs, err)
	}
	if err := private.Create(d.DBPath); err != nil {
		return nil, fmt.Errorf("demo: seed %s: %w", abs, err)
	}
	db, err := sql.Open("sqlite", dsn(d.DBPath))
	if err != nil {
		return nil, fmt.Errorf("demo: open %s: %w", d.DBPath, err)
	}
	defer db.Close()

	if err := seedOnce(ctx, db, d.UploadsDir, now.UTC().Truncate(time.Second)); err != nil {
		return nil, fmt.Errorf("demo: seed %s: %w", d.DBPath, err)
	}
	if d.Users, err = loadUsers(ctx, db); err != nil {
		return nil, fmt.Errorf("demo: read users from %s: %w", d.DBPath, err)
	}
	return d, nil
}

// dsn is the driver's connection string for path: foreign keys enforced,
// transactions that take the write lock up front (so the "already seeded?"
// check and the seed are atomic), and a wait instead of an error when another
// process holds the lock.
func dsn(path string) string {
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// seedOnce seeds db and uploadsDir in one transaction unless the seed marker
// is already there. On failure the upload files written so far are removed.
func seedOnce(ctx context.Context, db *sql.DB, uploadsDir string, now time.Time) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	// After Commit this is a no-op; after a failure its error adds nothing.
	defer tx.Rollback()

	seeded, err := isSeeded(ctx, tx)
	if err != nil || seeded {
		return err
	}
	s := &seeder{tx: tx, uploadsDir: uploadsDir, now: now}
	err = s.run(ctx)
	if err == nil {
		if err = tx.Commit(); err != nil {
			err = fmt.Errorf("commit: %w", err)
		}
	}
	if err != nil {
		return errors.Join(err, s.removeFiles())
	}
	return nil
}

// isSeeded reports whether the seed marker row exists.
func isSeeded(ctx context.Context, tx *sql.Tx) (bool, error) {
	var tables int
	err := tx.QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'demo_meta'`).Scan(&tables)
	if err != nil {
		return false, fmt.Errorf("look for demo_meta: %w", err)
	}
	if tables == 0 {
		return false, nil
	}
	var rows int
	err = tx.QueryRowContext(ctx, `SELECT count(*) FROM demo_meta WHERE key = ?`, seedMarker).Scan(&rows)
	if err != nil {
		return false, fmt.Errorf("read demo_meta: %w", err)
	}
	return rows > 0, nil
}

// loadUsers reads the users back, each with the studio of their first chat.
func loadUsers(ctx context.Context, db *sql.DB) ([]User, error) {
	rows, err := db.QueryContext(ctx, `
		SELECT u.id, u.email, COALESCE(u.name, ''),
		       COALESCE((SELECT c.studio_id FROM chats c WHERE c.user_id = u.id
		                 ORDER BY c.created_at, c.id LIMIT 1), '')
		FROM users u ORDER BY u.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var users []User
	for rows.Next() {
		var u User
		if err := rows.Scan(&u.ID, &u.Email, &u.Name, &u.Studio); err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, rows.Err()
}
