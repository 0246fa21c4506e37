package queue

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/lethe-privacy/lethe/pkg/state"
)

// Enqueuer inserts jobs without working them: River's insert-only client.
// It exists before the workers, so the stores that queue jobs (requests,
// self-service, retention runs) receive it when they are built, and the
// Queue that works the jobs is built after them.
type Enqueuer struct {
	client *river.Client[*sql.Tx]
}

// EnqueuerConfig configures an Enqueuer.
type EnqueuerConfig struct {
	DB     *state.DB
	Logger *slog.Logger // default slog.Default()
	// MaxAttempts is how often a request inserted here is tried before it
	// fails (default 8, as Config.MaxAttempts): River keeps it with the job.
	MaxAttempts int
}

// NewEnqueuer migrates River's tables in cfg.DB and returns an Enqueuer
// over them. Errors: no DB; the migration or the client could not be set
// up.
func NewEnqueuer(ctx context.Context, cfg EnqueuerConfig) (*Enqueuer, error) {
	if cfg.DB == nil {
		return nil, errors.New("queue: EnqueuerConfig.DB is required")
	}
	logger := cmp.Or(cfg.Logger, slog.Default())
	driver, err := migrate(ctx, cfg.DB, logger)
	if err != nil {
		return nil, err
	}
	client, err := river.NewClient(driver, &river.Config{Logger: quiet(logger),
		MaxAttempts: cmp.Or(cfg.MaxAttempts, defaultMaxAttempts)})
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	return &Enqueuer{client: client}, nil
}

// Request inserts the job of request id inside tx (RequestService.Enqueue,
// SelfStore.Enqueue).
func (e *Enqueuer) Request(ctx context.Context, tx *sql.Tx, id string) error {
	return insertRequest(ctx, e.client, tx, id)
}

// Retention inserts the job of queued retention run id inside tx
// (RetentionRuns.Enqueue).
func (e *Enqueuer) Retention(ctx context.Context, tx *sql.Tx, id string) error {
	return insertRetention(ctx, e.client, tx, id)
}

// migrate brings River's tables in db up to date, under the store's
// migration lock, and returns the driver over db.
func migrate(ctx context.Context, db *state.DB, logger *slog.Logger) (riverdriver.Driver[*sql.Tx], error) {
	var driver riverdriver.Driver[*sql.Tx]
	if db.Dialect == state.Postgres {
		driver = riverdatabasesql.New(db.SQL)
	} else {
		driver = riversqlite.New(db.SQL)
	}
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: quiet(logger)})
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	// Under the state store's migration lock: replicas starting together
	// on an empty store would each create River's tables, all but one
	// failing on a table or a migration row already there.
	err = db.WithMigrationLock(ctx, func() error {
		_, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("queue: migrate: %w", err)
	}
	return driver, nil
}

func insertRequest(ctx context.Context, client *river.Client[*sql.Tx], tx *sql.Tx, id string) error {
	if _, err := client.InsertTx(ctx, tx, RequestArgs{RequestID: id}, nil); err != nil {
		return fmt.Errorf("queue: enqueue: %w", err)
	}
	return nil
}

func insertRetention(ctx context.Context, client *river.Client[*sql.Tx], tx *sql.Tx, id string) error {
	if _, err := client.InsertTx(ctx, tx, RetentionArgs{RunID: id}, retentionOpts()); err != nil {
		return fmt.Errorf("queue: enqueue retention run: %w", err)
	}
	return nil
}
