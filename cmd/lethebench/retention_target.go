package main

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	_ "github.com/go-sql-driver/mysql" // database/sql driver "mysql" for the MariaDB baseline

	"github.com/lethe-privacy/lethe/pkg/registry"
)

// retentionTarget is the database a retention_purge line runs on: how to
// make and drop a dataset there, and its SQL dialect.
type retentionTarget struct {
	driver    string // the registry's driver
	sqlDriver string // database/sql's
	create    func(ctx context.Context, name string, n int) (string, error)
	drop      func(name string)
	// dollar says whether parameters are $1, $2 (else ?).
	dollar bool
	// flush writes dirty pages before a timed part, so that neither side
	// pays for the other's; "" for none.
	flush string
	// settle, when set, waits before a timed part for the server's
	// background work on what came before (InnoDB's purge of deleted rows).
	settle func(ctx context.Context, db *sql.DB) error
	// admin, on Postgres, reads the server's processes for CPU figures.
	admin *sql.DB
	// registry is the sweep's registry (its driver a %s); "" for
	// retentionRegistry.
	registry string
}

// named returns the dataset URL u naming its connections app, where the
// target can tell connections apart (Postgres).
func (tg *retentionTarget) named(u, app string) string {
	if tg.admin == nil {
		return u
	}
	return withApp(u, app)
}

// cpu returns the server CPU time of the connections named app; ok false
// where it cannot tell.
func (tg *retentionTarget) cpu(ctx context.Context, app string) (time.Duration, bool, error) {
	if tg.admin == nil {
		return 0, false, nil
	}
	return backendCPU(ctx, tg.admin, app)
}

var dollarParam = regexp.MustCompile(`\$[0-9]+`)

// sql rewrites q's $n parameters for the target.
func (tg *retentionTarget) sql(q string) string {
	if tg.dollar {
		return q
	}
	return dollarParam.ReplaceAllString(q, "?")
}

// checkpoint readies the server for a timed part: dirty pages written
// (flush) and background work on earlier changes done (settle).
func (tg *retentionTarget) checkpoint(ctx context.Context, db *sql.DB) error {
	if tg.settle != nil {
		if err := tg.settle(ctx, db); err != nil {
			return err
		}
	}
	if tg.flush == "" {
		return nil
	}
	_, err := db.ExecContext(ctx, tg.flush)
	return err
}

func postgresTarget(b *bench) *retentionTarget {
	return &retentionTarget{driver: registry.DriverPostgres, sqlDriver: "pgx", dollar: true, flush: "CHECKPOINT", admin: b.admin,
		create: func(ctx context.Context, schema string, n int) (string, error) {
			return b.retentionData(ctx, schema, n)
		},
		drop: func(schema string) {
			b.admin.ExecContext(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
		}}
}

// mariadbTarget makes its datasets as databases of the MariaDB at
// LETHE_TEST_MYSQL_DSN (or the local default).
func mariadbTarget() *retentionTarget {
	base := cmp.Or(os.Getenv("LETHE_TEST_MYSQL_DSN"), "root@tcp(127.0.0.1:3306)/test?parseTime=true&multiStatements=true")
	dsnOf := func(name string) string {
		i := strings.Index(base, "/")
		j := strings.Index(base, "?")
		if j < 0 {
			j = len(base)
		}
		return base[:i+1] + name + base[j:]
	}
	exec := func(ctx context.Context, q string) error {
		db, err := sql.Open("mysql", base)
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.ExecContext(ctx, q)
		return err
	}
	return &retentionTarget{driver: registry.DriverMySQL, sqlDriver: "mysql", settle: innodbPurged,
		create: func(ctx context.Context, name string, n int) (string, error) {
			if err := exec(ctx, "CREATE DATABASE "+name); err != nil {
				return "", err
			}
			return dsnOf(name), mariadbData(ctx, dsnOf(name), n)
		},
		drop: func(name string) { exec(context.Background(), "DROP DATABASE IF EXISTS "+name) }}
}

// mariadbData fills the database at dsn as retentionData does on Postgres.
func mariadbData(ctx context.Context, dsn string, n int) error {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	for _, stmt := range []string{
		`CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL)`,
		`CREATE TABLE chats (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, FOREIGN KEY (user_id) REFERENCES users(id))`,
		`CREATE TABLE messages (id BIGINT PRIMARY KEY, chat_id BIGINT NOT NULL, body TEXT NOT NULL, created_at DATETIME(6) NOT NULL,
			FOREIGN KEY (chat_id) REFERENCES chats(id))`,
		`INSERT INTO users SELECT seq, CONCAT('user', seq, '@example.com') FROM seq_1_to_100`,
		`INSERT INTO chats SELECT seq, 1 + seq % 100 FROM seq_1_to_10000`,
		fmt.Sprintf(`INSERT INTO messages SELECT seq, 1 + seq %% 10000, CONCAT('hello, this is message ', seq),
			TIMESTAMP '%s' - INTERVAL ((seq * 7919) %% %d) * (3240000000000 DIV %d) MICROSECOND
			FROM seq_1_to_%d`, retentionNow.Format(time.DateTime), n, n, n),
		`CREATE INDEX messages_created_at ON messages (created_at)`,
		`ANALYZE TABLE users, chats, messages`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", strings.SplitN(strings.TrimSpace(stmt), "\n", 2)[0], err)
		}
	}
	return nil
}

var (
	innodbTrxCounter = regexp.MustCompile(`Trx id counter ([0-9]+)`)
	innodbPurgeDone  = regexp.MustCompile(`Purge done for trx's n:o < ([0-9]+)`)
	innodbHistory    = regexp.MustCompile(`History list length ([0-9]+)`)
)

// purgeWait bounds innodbPurged's wait: a transaction left open elsewhere
// on the server holds purge back, and the line then runs regardless.
const purgeWait = 10 * time.Minute

// innodbPurged waits until InnoDB has purged every transaction committed
// before the call: a DELETE only marks its rows, and InnoDB's purge threads
// remove them from the table and its indexes after the commit. Without the
// wait a sweep timed after the baseline DELETE pays for the baseline's
// purge (and the baseline for the loads' purge), as Postgres's CHECKPOINT
// keeps either side from paying for the other's dirty pages.
func innodbPurged(ctx context.Context, db *sql.DB) error {
	status := func() (string, error) {
		var typ, name, st string
		err := db.QueryRowContext(ctx, "SHOW ENGINE INNODB STATUS").Scan(&typ, &name, &st)
		return st, err
	}
	number := func(re *regexp.Regexp, st string) (int64, bool) {
		m := re.FindStringSubmatch(st)
		if m == nil {
			return 0, false
		}
		n, err := strconv.ParseInt(m[1], 10, 64)
		return n, err == nil
	}
	st, err := status()
	if err != nil {
		return err
	}
	counter, ok := number(innodbTrxCounter, st)
	if !ok {
		return nil // a server that does not say: nothing to wait for
	}
	deadline := time.Now().Add(purgeWait)
	for time.Now().Before(deadline) {
		done, ok1 := number(innodbPurgeDone, st)
		history, ok2 := number(innodbHistory, st)
		if !ok1 || !ok2 || done >= counter || history == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if st, err = status(); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "lethebench: InnoDB purge still behind after %s; timing regardless\n", purgeWait)
	return nil
}
