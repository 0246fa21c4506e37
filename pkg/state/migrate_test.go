package state_test

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// TestOpenMigratesOnce starts two "replicas" on a fresh store at once, then
// opens it again: every migration is recorded exactly once and reopening
// changes nothing.
func TestOpenMigratesOnce(t *testing.T) {
	t.Parallel()
	for _, dialect := range dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			url := newURL(t, dialect)

			var wg sync.WaitGroup
			dbs, errs := make([]*state.DB, 2), make([]error, 2)
			for i := range dbs {
				wg.Go(func() { dbs[i], errs[i] = state.Open(ctx, url) })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("replica %d: %v", i, err)
				}
				defer dbs[i].Close()
			}

			want, err := state.Migrations(dialect)
			if err != nil || len(want) == 0 {
				t.Fatalf("migrations of %s: %v (%d)", dialect, err, len(want))
			}
			db := dbs[0]
			requests := &state.RequestService{DB: db, Subject: dsr.NewSubjectHasher([]byte(subjectKey)),
				Audit:   &state.AuditLog{DB: db},
				Enqueue: func(context.Context, *sql.Tx, string) error { return nil }}
			r, _, err := requests.Create(ctx, admin, dsr.NewRequest{Type: dsr.TypeAccess, Email: "kept@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range dbs {
				d.Close()
			}

			again, err := state.Open(ctx, url)
			if err != nil {
				t.Fatalf("second open: %v", err)
			}
			defer again.Close()
			type applied struct {
				Version int
				Name    string
			}
			var got []applied
			if err := again.Gorm.Raw("SELECT version, name FROM lethe_migrations ORDER BY version").Scan(&got).Error; err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("lethe_migrations has %d rows, want %d: %+v", len(got), len(want), got)
			}
			for i, m := range want {
				if got[i].Version != m.Version || got[i].Name != m.Name {
					t.Errorf("migration %d recorded as %+v, want %d %s", i, got[i], m.Version, m.Name)
				}
			}
			var heads int64
			again.Gorm.Raw("SELECT count(*) FROM lethe_audit_head").Scan(&heads)
			if heads != 1 {
				t.Errorf("lethe_audit_head has %d rows, want 1", heads)
			}
			requests.DB = again
			if _, err := requests.Get(ctx, admin, r.ID); err != nil {
				t.Errorf("request filed before reopening: %v", err)
			}
		})
	}
}

func TestOpenRejects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		url  string
		want string
	}{
		{name: "unknown scheme", url: "mysql://root@127.0.0.1/lethe", want: "must start with postgres:// or sqlite://"},
		{name: "postgres not reachable", url: "postgres://postgres@127.0.0.1:1/lethe?sslmode=disable&connect_timeout=2", want: "failed to connect"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db, err := state.Open(context.Background(), tc.url)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
}
