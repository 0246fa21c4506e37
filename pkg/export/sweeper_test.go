package export_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/export"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// TestSweeperDeletesExpired moves an injected clock past the expiry of one
// package of two: only that one leaves the folder and is marked deleted,
// and a second sweep (another replica) is a no-op.
func TestSweeperDeletesExpired(t *testing.T) {
	ctx := context.Background()
	for _, dialect := range []string{state.SQLite, state.Postgres} {
		t.Run(dialect, func(t *testing.T) {
			db := openState(t, dialect)
			dir := filepath.Join(t.TempDir(), "exports")
			bucket, err := export.OpenBucket(ctx, "file://"+dir)
			if err != nil {
				t.Fatal(err)
			}
			defer bucket.Close()
			records := &state.ExportStore{DB: db}
			t0 := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
			for i, ttl := range []time.Duration{24 * time.Hour, 7 * 24 * time.Hour} {
				id := []string{"short", "long"}[i]
				if err := bucket.WriteAll(ctx, id+".zip.lethe", []byte("sealed"), nil); err != nil {
					t.Fatal(err)
				}
				if err := records.SaveExport(ctx, &dsr.Export{RequestID: id, Object: id + ".zip.lethe", CreatedAt: t0, ExpiresAt: t0.Add(ttl)}); err != nil {
					t.Fatal(err)
				}
			}
			now := t0.Add(23 * time.Hour)
			sw := &export.Sweeper{Records: records, Bucket: bucket, Now: func() time.Time { return now }, Batch: 1}
			if n, err := sw.Sweep(ctx); n != 0 || err != nil {
				t.Fatalf("before expiry: %d %v", n, err)
			}
			now = t0.Add(25 * time.Hour)
			if n, err := sw.Sweep(ctx); n != 1 || err != nil {
				t.Fatalf("after the first expiry: %d %v", n, err)
			}
			if _, err := os.Stat(filepath.Join(dir, "short.zip.lethe")); !os.IsNotExist(err) {
				t.Errorf("the expired package is still on disk: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dir, "long.zip.lethe")); err != nil {
				t.Errorf("the live package was deleted: %v", err)
			}
			rec, err := records.GetExport(ctx, "short")
			if err != nil || rec.DeletedAt == nil || !rec.DeletedAt.Equal(now) {
				t.Errorf("record = %+v, %v", rec, err)
			}
			if n, err := sw.Sweep(ctx); n != 0 || err != nil {
				t.Errorf("second sweep: %d %v", n, err)
			}
			now = t0.Add(8 * 24 * time.Hour)
			if n, err := sw.Sweep(ctx); n != 1 || err != nil {
				t.Errorf("after the second expiry: %d %v", n, err)
			}
		})
	}
}

func TestResolveURL(t *testing.T) {
	u, err := export.ResolveURL("file://./" + filepath.Base(t.TempDir()) + "-rel")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		path, _, _ := strings.Cut(strings.TrimPrefix(u, "file://"), "?")
		os.RemoveAll(path)
	}()
	wd, _ := os.Getwd()
	if !strings.HasPrefix(u, "file://"+filepath.ToSlash(wd)+"/") || !strings.HasSuffix(u, "?dir_file_mode=0700&metadata=skip&no_tmp_dir=true") {
		t.Errorf("ResolveURL = %s, want an absolute path under %s", u, wd)
	}
	if u, err := export.ResolveURL("s3://bucket?region=eu-west-1"); err != nil || u != "s3://bucket?region=eu-west-1" {
		t.Errorf("s3 = %s %v", u, err)
	}
}

// TestSweeperDeletesLeftoverTemp leaves, as a write cut short by a crash
// would, a package's temporary file beside the packages with no record:
// the sweep deletes it once it is StaleTemp old, and keeps a fresh one (a
// write under way) and the packages.
func TestSweeperDeletesLeftoverTemp(t *testing.T) {
	ctx := context.Background()
	db := openState(t, state.SQLite)
	dir := filepath.Join(t.TempDir(), "exports")
	bucket, err := export.OpenBucket(ctx, "file://"+dir)
	if err != nil {
		t.Fatal(err)
	}
	defer bucket.Close()
	for _, name := range []string{"req1.zip.lethe", "req2.zip.lethe.18a7f3c2b4d5e6f7.tmp", "req3.zip.lethe.18a7f3c2b4d5e6f8.tmp"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("sealed"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-export.StaleTemp - time.Minute)
	for _, name := range []string{"req1.zip.lethe", "req2.zip.lethe.18a7f3c2b4d5e6f7.tmp"} {
		if err := os.Chtimes(filepath.Join(dir, name), old, old); err != nil {
			t.Fatal(err)
		}
	}
	sw := &export.Sweeper{Records: &state.ExportStore{DB: db}, Bucket: bucket, Now: time.Now}
	if _, err := sw.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "req2.zip.lethe.18a7f3c2b4d5e6f7.tmp")); !os.IsNotExist(err) {
		t.Errorf("the crashed write's temporary file is still on disk: %v", err)
	}
	for _, name := range []string{"req1.zip.lethe", "req3.zip.lethe.18a7f3c2b4d5e6f8.tmp"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s was deleted: %v", name, err)
		}
	}
}
