package state

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/pressly/goose/v3/lock"
)

// locker is the store's migration lock: on Postgres an advisory lock,
// on SQLite a row (see sqliteLocker).
func (db *DB) locker(ctx context.Context) (lock.SessionLocker, error) {
	if db.Dialect == Postgres {
		return db.postgresLocker(ctx)
	}
	return newSQLiteLocker(), nil
}

// WithMigrationLock runs fn while holding the lock that Open's migrations
// take, for migrations kept outside this package (River's tables): lethe
// serve replicas starting together on an empty store would otherwise
// each create the same tables, and all but one fail. Errors: the lock's
// (a wait past ten minutes on Postgres, ctx's end), and fn's.
func (db *DB) WithMigrationLock(ctx context.Context, fn func() error) error {
	locker, err := db.locker(ctx)
	if err != nil {
		return err
	}
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		return fmt.Errorf("state: migration lock: %w", err)
	}
	if err := locker.SessionLock(ctx, conn); err != nil {
		conn.Close()
		return err
	}
	release := context.WithoutCancel(ctx)
	if db.Dialect == Postgres {
		defer func() { _ = locker.SessionUnlock(release, conn); conn.Close() }()
		return fn()
	}
	// SQLite's lock is a row, not the connection's: fn needs the pool's
	// one connection back, and the row is deleted on another.
	conn.Close()
	defer func() {
		if c, err := db.SQL.Conn(release); err == nil {
			_ = locker.SessionUnlock(release, c)
			c.Close()
		}
	}()
	return fn()
}

// postgresLocker returns goose's session locker on a Postgres advisory
// lock whose key is derived from the current schema, so that replicas of
// one deployment wait for each other while deployments in other schemas of
// the same database do not. A replica waits up to ten minutes, polling
// every second.
func (db *DB) postgresLocker(ctx context.Context) (lock.SessionLocker, error) {
	var schema string
	if err := db.SQL.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return nil, fmt.Errorf("state: migrate: read the current schema: %w", err)
	}
	h := fnv.New64a()
	h.Write([]byte("lethe migrations " + schema))
	l, err := lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64()>>1)), lock.WithLockTimeout(1, 600))
	if err != nil {
		return nil, fmt.Errorf("state: migrate: %w", err)
	}
	return l, nil
}

// sqliteLockLease is how long a SQLite migration lock holds when its
// holder dies without releasing it.
const sqliteLockLease = 10 * time.Minute

// sqliteLocker is goose's session locker for SQLite, which has no advisory
// locks: the lock is the one row of lethe_migration_lock, which only one
// connection can insert. It carries a lease so that a process killed while
// migrating does not block every later start.
type sqliteLocker struct {
	holder string // random, so that only the holder releases the lock
	poll   time.Duration
}

var _ lock.SessionLocker = (*sqliteLocker)(nil)

func newSQLiteLocker() *sqliteLocker {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return &sqliteLocker{holder: hex.EncodeToString(b), poll: 50 * time.Millisecond}
}

// SessionLock takes the lock, or waits for it until ctx ends.
func (l *sqliteLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS lethe_migration_lock (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    holder     TEXT NOT NULL,
    expires_at INTEGER NOT NULL
)`); err != nil {
		return fmt.Errorf("state: migrate: create lethe_migration_lock: %w", err)
	}
	for {
		now := time.Now()
		res, err := conn.ExecContext(ctx, `INSERT INTO lethe_migration_lock (id, holder, expires_at) VALUES (1, ?, ?)
ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
WHERE lethe_migration_lock.expires_at < ?`, l.holder, now.Add(sqliteLockLease).Unix(), now.Unix())
		if err != nil {
			return fmt.Errorf("state: migrate: take lethe_migration_lock: %w", err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 1 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("state: migrate: another process holds lethe_migration_lock: %w", ctx.Err())
		case <-time.After(l.poll):
		}
	}
}

// SessionUnlock releases the lock if this locker still holds it.
func (l *sqliteLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, "DELETE FROM lethe_migration_lock WHERE id = 1 AND holder = ?", l.holder); err != nil {
		return fmt.Errorf("state: migrate: release lethe_migration_lock: %w", err)
	}
	return nil
}
