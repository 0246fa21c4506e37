package state

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"

	"github.com/lethe-privacy/lethe/pkg/private"
)

// Dialects of the state store.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// DefaultURL is the embedded default: a SQLite file under ./.lethe/.
const DefaultURL = "sqlite://.lethe/lethe.db"

// DB is an open state store. SQL is the pool under Gorm; the job queue shares
// it so that a request and its job are written in one transaction.
type DB struct {
	Gorm    *gorm.DB
	SQL     *sql.DB
	Dialect string
	Now     func() time.Time
	// progress writes what a crash of the state database itself may lose
	// (see Progress); nil means Gorm.
	progress *gorm.DB
}

// Open connects to the state store at url and applies pending migrations.
// url is "postgres://…" (or "postgresql://…"), "sqlite://PATH" or "" for
// DefaultURL. A URL of another scheme, or a store that cannot be reached,
// is an error that says which.
func Open(ctx context.Context, url string) (*DB, error) {
	db, err := Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	if err := db.migrate(ctx); err != nil {
		db.SQL.Close()
		return nil, err
	}
	return db, nil
}

// Connect is Open without the migrations: for a command that reads the
// store as it stands (its migration level, a backup). Errors: Open's.
func Connect(ctx context.Context, url string) (*DB, error) {
	if url == "" {
		url = DefaultURL
	}
	db := &DB{Now: time.Now}
	var err error
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		db.Dialect = Postgres
		if db.SQL, err = sql.Open("pgx", url); err != nil {
			return nil, fmt.Errorf("state: open postgres: %w", err)
		}
		db.SQL.SetMaxOpenConns(20)
		db.Gorm, err = gorm.Open(postgres.New(postgres.Config{Conn: db.SQL}), gormConfig())
		if err == nil {
			db.progress, err = openProgress(url)
		}
	case strings.HasPrefix(url, "sqlite://"):
		db.Dialect = SQLite
		path := strings.TrimPrefix(url, "sqlite://")
		// The file holds personal data: 0600 in a 0700 folder, existing ones
		// included. SQLite gives its -wal and -shm files the database's mode.
		if err := private.Create(path); err != nil {
			return nil, fmt.Errorf("state: %w", err)
		}
		for _, side := range []string{path + "-wal", path + "-shm"} {
			if err := private.Chmod(side); err != nil {
				return nil, fmt.Errorf("state: %w", err)
			}
		}
		dsn := path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_pragma=secure_delete(1)&_txlock=immediate"
		if db.SQL, db.Gorm, err = openSQLite(ctx, dsn); err != nil {
			return nil, fmt.Errorf("state: open sqlite: %w", err)
		}
	default:
		return nil, fmt.Errorf("state: LETHE_DATABASE_URL must start with postgres:// or sqlite://")
	}
	if err != nil {
		db.SQL.Close()
		return nil, fmt.Errorf("state: open %s: %w", db.Dialect, err)
	}
	if err := db.SQL.PingContext(ctx); err != nil {
		db.SQL.Close()
		return nil, fmt.Errorf("state: %s is not reachable: %w", db.Dialect, err)
	}
	return db, nil
}

// openSQLite opens the file behind dsn with one connection (SQLite allows one
// writer; one connection avoids "database is locked" within a process).
// Processes opening a fresh file at the same moment race to switch it to WAL,
// which SQLite refuses at once with SQLITE_BUSY rather than waiting out
// busy_timeout; the loser tries again until the switch is done or ctx ends,
// for at most ten seconds.
func openSQLite(ctx context.Context, dsn string) (*sql.DB, *gorm.DB, error) {
	deadline := time.Now().Add(10 * time.Second)
	for pause := 10 * time.Millisecond; ; pause = min(2*pause, 500*time.Millisecond) {
		pool, err := sql.Open("sqlite", dsn)
		if err != nil {
			return nil, nil, err
		}
		pool.SetMaxOpenConns(1)
		g, err := gorm.Open(sqlite.Dialector{Conn: pool}, gormConfig())
		if err == nil {
			err = pool.PingContext(ctx)
		}
		if err == nil {
			return pool, g, nil
		}
		pool.Close()
		if !strings.Contains(err.Error(), "SQLITE_BUSY") || time.Now().Add(pause).After(deadline) {
			return nil, nil, err
		}
		select {
		case <-ctx.Done():
			return nil, nil, err
		case <-time.After(pause):
		}
	}
}

func gormConfig() *gorm.Config {
	return &gorm.Config{Logger: logger.Discard, SkipDefaultTransaction: true,
		NowFunc: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}

// Scrub makes what was just deleted or overwritten unreadable on disk, for
// when a request ends and its person's address and keys are forgotten.
// SQLite runs with secure_delete, which zeroes deleted content in the
// database file; its write-ahead log still holds the old pages until a
// checkpoint, which Scrub forces, truncating the log. On Postgres it does
// nothing: dead rows are unreadable through SQL and VACUUM reclaims them.
func (db *DB) Scrub(ctx context.Context) error {
	if db.Dialect != SQLite {
		return nil
	}
	var busy, logged, moved int
	if err := db.SQL.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logged, &moved); err != nil {
		return fmt.Errorf("state: checkpoint the write-ahead log: %w", err)
	}
	return nil
}

// openProgress opens the Postgres pool of Progress: sessions whose commits
// do not wait for the write-ahead log to reach the disk.
func openProgress(url string) (*gorm.DB, error) {
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	pool, err := sql.Open("pgx", url+sep+"synchronous_commit=off")
	if err != nil {
		return nil, err
	}
	pool.SetMaxOpenConns(4)
	return gorm.Open(postgres.New(postgres.Config{Conn: pool}), gormConfig())
}

// Progress is where progress records go: a request's journal steps and
// registry snapshot. They are visible to every process as soon as written,
// like any other write, but on Postgres their commit does not wait for the
// disk (synchronous_commit off): a crash of the database server itself
// (not of Lethe) may lose the last few, which the execution then redoes,
// its steps being idempotent. Writes that must survive it (frozen keys,
// files to delete, a request's end) go through Gorm, and a commit there
// also makes every earlier progress record durable, the log being one
// sequence. On SQLite, Progress is Gorm, and writeProgress relaxes the
// commit's sync the same way.
func (db *DB) Progress() *gorm.DB {
	if db.progress == nil {
		return db.Gorm
	}
	return db.progress
}

// writeProgress runs fn with the session for progress records (see
// Progress). On SQLite, whose one connection commits at synchronous FULL
// (an fsync of the write-ahead log per commit), it holds that connection
// and sets synchronous to NORMAL for fn: a commit in WAL mode then waits
// for no fsync, and the next commit at FULL, which syncs the log and so
// every frame before it, makes fn's writes durable too, as on Postgres.
func (db *DB) writeProgress(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if db.Dialect != SQLite {
		return fn(db.Progress().WithContext(ctx))
	}
	return db.Gorm.WithContext(ctx).Connection(func(tx *gorm.DB) error {
		if err := tx.Exec("PRAGMA synchronous = NORMAL").Error; err != nil {
			return err
		}
		err := fn(tx)
		if rerr := tx.Exec("PRAGMA synchronous = FULL").Error; rerr != nil {
			// The connection would commit unsynced: drop it from the pool.
			if conn, ok := tx.Statement.ConnPool.(*sql.Conn); ok {
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			}
			return errors.Join(err, rerr)
		}
		return err
	})
}

// SetLogger gives both pools the statement logger l (lethebench counts
// statements with one).
func (db *DB) SetLogger(l logger.Interface) {
	db.Gorm.Logger = l
	if db.progress != nil {
		db.progress.Logger = l
	}
}

// Close closes the pools.
func (db *DB) Close() error {
	if db.progress != nil {
		if pool, err := db.progress.DB(); err == nil {
			pool.Close()
		}
	}
	return db.SQL.Close()
}

// Ping checks that the store answers; /readyz uses it.
func (db *DB) Ping(ctx context.Context) error { return db.SQL.PingContext(ctx) }

// now returns the clock's time in UTC at the microsecond precision that both
// dialects keep, so values read back compare equal to values written.
func (db *DB) now() time.Time { return db.Now().UTC().Truncate(time.Microsecond) }

// SQLTx returns the *sql.Tx under a gorm transaction, for the job queue.
func SQLTx(tx *gorm.DB) (*sql.Tx, error) {
	t, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return nil, fmt.Errorf("state: not in a database/sql transaction (%T)", tx.Statement.ConnPool)
	}
	return t, nil
}

// lock makes the next read of tx take row locks on Postgres (SELECT … FOR
// UPDATE). SQLite transactions start IMMEDIATE and so already hold the one
// write lock.
func (db *DB) lock(tx *gorm.DB) *gorm.DB {
	if db.Dialect == Postgres {
		return tx.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return tx
}
