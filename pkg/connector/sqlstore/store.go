package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/mysql"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// Store is one sql store of the registry.
type Store struct {
	name   string
	driver string
	db     *gorm.DB
	// mariadb caches whether a mysql store is MariaDB (which has DELETE …
	// RETURNING): 0 unknown, 1 yes, 2 no. See purge.go.
	mariadb atomic.Int32
	// plain caches, per table name, whether a Postgres table may be
	// addressed by ctid (see addressable).
	plain sync.Map
	// folds is each identity column's fold (fold.go), shared with the
	// copies made for transactions.
	folds *foldCache
	// keyed caches the tables whose registry key is one of their own keys
	// (see checkKey), and times how their cut-off columns store time (see
	// timeColumn).
	keyed, times sync.Map
	// digest caches whether a Postgres store has pgcrypto's digest(text,
	// text), whose SHA-256 can be indexed: 0 unknown, 1 yes, 2 no. See
	// sha256.go.
	digest atomic.Int32
}

var (
	_ connector.Store       = (*Store)(nil)
	_ registry.SchemaReader = (*Store)(nil)
)

// Open opens store name with driver (registry.DriverPostgres, DriverMySQL or
// DriverSQLite) and dsn. It does not connect: a store that is down fails
// its first statement with EUNAVAILABLE instead, so the service can start
// and retry. For SQLite a busy timeout is added unless the DSN sets one.
// Errors: an unknown driver.
func Open(name, driver, dsn string) (*Store, error) {
	var d gorm.Dialector
	switch driver {
	case registry.DriverPostgres:
		d = postgres.Open(dsn)
	case registry.DriverMySQL:
		d = mysql.Open(dsn)
	case registry.DriverSQLite:
		if err := registerSQLiteFold(); err != nil {
			return nil, fmt.Errorf("store %s: register %s: %w", name, sqliteFold, err)
		}
		// Before the first connection: a function registered later is
		// missing from connections already open.
		if err := registerSQLiteSHA256(); err != nil {
			return nil, fmt.Errorf("store %s: register %s: %w", name, sqliteSHA256, err)
		}
		if !strings.Contains(dsn, "busy_timeout") {
			sep := "?"
			if strings.Contains(dsn, "?") {
				sep = "&"
			}
			if !strings.HasPrefix(dsn, "file:") {
				dsn = "file:" + dsn
			}
			dsn += sep + "_pragma=busy_timeout(10000)"
		}
		d = sqlite.Open(dsn)
	default:
		return nil, fmt.Errorf("store %s: unknown driver %q", name, driver)
	}
	db, err := gorm.Open(d, &gorm.Config{
		Logger:                 logger.Discard, // statements carry personal data as parameters
		DisableAutomaticPing:   true,
		SkipDefaultTransaction: true,
	})
	if err != nil {
		return nil, fmt.Errorf("store %s: open: %w", name, err)
	}
	if sqlDB, err := db.DB(); err == nil {
		sqlDB.SetMaxOpenConns(8)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		if driver == registry.DriverSQLite {
			sqlDB.SetMaxOpenConns(1) // one writer; readers wait on the busy timeout otherwise
		}
	}
	return &Store{name: name, driver: driver, db: db, folds: &foldCache{db: db, folds: map[string]fold{}}}, nil
}

// Name returns the store's name in the registry.
func (s *Store) Name() string { return s.name }

// Ping checks that the store answers; EUNAVAILABLE when it does not.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err == nil {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		err = sqlDB.PingContext(ctx)
	}
	if err != nil {
		return s.unavailable(err)
	}
	return nil
}

// Close closes the store's connections.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

func (s *Store) unavailable(cause error) error { return connector.Unavailable(s.name, cause) }

// fail classifies a statement's error: context errors pass through, a store
// that no longer answers a ping is EUNAVAILABLE, anything else is wrapped
// with the collection's name.
func (s *Store) fail(ctx context.Context, what, collection string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		return fmt.Errorf("%s %s: %w", what, collection, err)
	}
	if perr := s.Ping(context.WithoutCancel(ctx)); perr != nil {
		return perr
	}
	return fmt.Errorf("%s %s: %w", what, collection, err)
}

// DB returns the store's gorm handle, for tools and tests that seed or
// inspect the application's tables. The engine never uses it.
func (s *Store) DB() *gorm.DB { return s.db }
