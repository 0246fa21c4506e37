package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/memjournal"
	"github.com/lethe-privacy/lethe/pkg/export"
)

// accessHeavy: one subject with 10 chats × 100,000 messages (1,000,000
// rows) among 1,000 other users. Lethe writes the whole access package
// (JSON and CSV of every row, report, manifest), compressed and encrypted
// into a folder; the baseline is Postgres serialising the same message rows
// itself, COPY (SELECT row_to_json(m) …) TO STDOUT, read and discarded.
func (b *bench) accessHeavy(ctx context.Context) (string, error) {
	s := shape{users: 1001, chats: 2, messages: 10, heavyChats: 10, heavyMessages: 100000}
	id := strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	schema := "lethebench_access_" + id
	defer b.admin.ExecContext(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
	d, err := create(ctx, b.admin, b.base, schema, s)
	if err != nil {
		return "", err
	}
	eng, st, err := b.engineFor(ctx, d)
	if err != nil {
		return "", err
	}
	defer st.Close()
	dir, err := os.MkdirTemp("", "lethebench-exports")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	bucket, err := export.OpenBucket(ctx, "file://"+dir)
	if err != nil {
		return "", err
	}
	defer bucket.Close()
	eng.Exporter = &export.Service{Bucket: bucket, Key: make([]byte, export.KeySize), Records: &memExports{}, SpoolDir: dir}
	conn, err := pgx.Connect(ctx, d.url)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)

	const email = "user1@example.com"
	var ratios []float64
	var tb, tl time.Duration
	var peak float64
	var rows, size int64
	for rep := range b.reps {
		runBase := func() error {
			start := time.Now()
			n, err := copyBaseline(ctx, conn, email)
			tb = time.Since(start)
			if err == nil && n != 1_000_000 {
				err = fmt.Errorf("baseline copied %d rows, want 1000000", n)
			}
			return err
		}
		runLethe := func() error {
			start := time.Now()
			var out *dsr.Outcome
			var err error
			_, peakHeap := sampleHeap(func() {
				out, err = eng.Execute(ctx, &dsr.Request{ID: fmt.Sprintf("access-%d", rep), Type: dsr.TypeAccess, Email: email}, memjournal.New())
			})
			tl = time.Since(start)
			if err != nil {
				return err
			}
			rows = out.Counts["app.messages"]
			if rows != 1_000_000 {
				return fmt.Errorf("package holds %d message rows, want 1000000", rows)
			}
			if info, err := os.Stat(filepath.Join(dir, fmt.Sprintf("access-%d.zip.lethe", rep))); err == nil {
				size = info.Size()
			}
			peak = max(peak, float64(peakHeap)/(1<<20))
			return nil
		}
		order := []func() error{runBase, runLethe}
		if rep%2 == 1 {
			order = []func() error{runLethe, runBase}
		}
		for _, f := range order {
			if err := f(); err != nil {
				return "", err
			}
		}
		ratios = append(ratios, float64(tl)/float64(tb))
	}
	return fmt.Sprintf("ratio=%.2f peak_mb=%.1f rows=%d lethe_ms=%s baseline_ms=%s package_mb=%.1f reps=%d",
		median(ratios), peak, rows, ms(tl), ms(tb), float64(size)/(1<<20), b.reps), nil
}

// copyBaseline is what Postgres alone does for the same rows.
func copyBaseline(ctx context.Context, conn *pgx.Conn, email string) (int64, error) {
	sql := `COPY (SELECT row_to_json(m) FROM messages m WHERE chat_id IN
		(SELECT id FROM chats WHERE user_id IN (SELECT id FROM users WHERE lower(email) = lower('` + email + `')))) TO STDOUT`
	tag, err := conn.PgConn().CopyTo(ctx, io.Discard, sql)
	return tag.RowsAffected(), err
}

// sampleHeap runs f and returns the heap in use before it (after a
// collection) and the peak meanwhile, in bytes.
func sampleHeap(f func()) (before, peak uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var high atomic.Uint64
	high.Store(ms.HeapInuse)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapInuse > high.Load() {
					high.Store(m.HeapInuse)
				}
			}
		}
	}()
	f()
	close(stop)
	<-done
	return ms.HeapInuse, high.Load()
}

// memExports is the bench's dsr.ExportStore: the records of one run.
type memExports struct {
	mu   sync.Mutex
	recs map[string]*dsr.Export
}

func (m *memExports) SaveExport(_ context.Context, e *dsr.Export) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.recs == nil {
		m.recs = map[string]*dsr.Export{}
	}
	m.recs[e.RequestID] = e
	return nil
}

func (m *memExports) GetExport(_ context.Context, id string) (*dsr.Export, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.recs[id]; e != nil {
		return e, nil
	}
	return nil, dsr.Errorf(dsr.ENOTFOUND, "no package")
}

func (m *memExports) ExpiredExports(context.Context, time.Time, int) ([]*dsr.Export, error) {
	return nil, nil
}

func (m *memExports) MarkExportDeleted(context.Context, string, time.Time) error { return nil }
