package state_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/state"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// TestTenantsMigrationRegistersNamedTenants checks that a store from before
// registration keeps its tenants: every slug its requests, keys, settings,
// holds or packages name is registered with itself as display name, and
// the empty tenant of untenanted requests is not.
func TestTenantsMigrationRegistersNamedTenants(t *testing.T) {
	t.Parallel()
	testkit.ForEachState(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		url := testkit.StateURL(t, dialect)
		versions, files := embedded(t, dialect)
		tenants := tenantsVersion(t, files, versions)
		raw := openRaw(t, dialect, url)
		applyBelow(t, raw, files, versions, tenants) // NNNN_tenants and later run through Open
		mustExec(t, raw, rebind(dialect, `INSERT INTO lethe_requests (id, type, status, tenant, subject, created_at, updated_at, due_at)
			VALUES (?, 'erasure', 'completed', ?, 's', ?, ?, ?)`), "r1", "from-requests", t0, t0, t0)
		mustExec(t, raw, rebind(dialect, `INSERT INTO lethe_requests (id, type, status, tenant, subject, created_at, updated_at, due_at)
			VALUES (?, 'erasure', 'completed', '', 's', ?, ?, ?)`), "r2", t0, t0, t0)
		mustExec(t, raw, rebind(dialect, "INSERT INTO lethe_tenant_keys (id, tenant, secret_hash, created_at) VALUES (?, ?, ?, ?)"),
			"k1", "from-keys", "h", t0)
		mustExec(t, raw, rebind(dialect, "INSERT INTO lethe_tenant_settings (tenant, updated_at, updated_by) VALUES (?, ?, ?)"),
			"from-settings", t0, "admin")
		mustExec(t, raw, rebind(dialect, "INSERT INTO lethe_holds (id, tenant, reason, created_at, created_by) VALUES (?, ?, ?, ?, ?)"),
			"h1", "from-requests", "audit", t0, "admin")
		raw.Close()

		db, err := openAt(ctx, t, dialect, url, versions, tenants)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		studios := &state.Tenants{DB: db, Audit: &state.AuditLog{DB: db}, Subject: dsr.NewSubjectHasher([]byte("k"))}
		page, err := studios.List(ctx, "", 50)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, tn := range page.Items {
			if tn.DisplayName != tn.Slug || tn.CreatedAt.IsZero() || len(tn.OwnerEmails) != 0 {
				t.Errorf("migrated tenant %+v: want its slug as display name, a creation time, no owners", tn)
			}
			got = append(got, tn.Slug)
		}
		if strings.Join(got, ",") != "from-keys,from-requests,from-settings" {
			t.Errorf("registered %v, want from-keys, from-requests, from-settings", got)
		}
		if err := studios.Known(ctx, "from-keys"); err != nil {
			t.Errorf("migrated tenant unknown: %v", err)
		}
	})
}

// tenantsVersion is the version of the migration that adds lethe_tenants.
func tenantsVersion(t *testing.T, files []string, versions []int64) int64 {
	t.Helper()
	return migrationVersion(t, files, versions, "_tenants.sql")
}

// migrationVersion is the version of the migration whose file name ends
// in suffix.
func migrationVersion(t *testing.T, files []string, versions []int64, suffix string) int64 {
	t.Helper()
	for i, f := range files {
		if strings.HasSuffix(f, suffix) {
			return versions[i]
		}
	}
	t.Fatalf("no NNNN%s migration", suffix)
	return 0
}

// applyBelow runs in raw, in order, the migration files whose version is
// below upTo, as a store of an older Lethe has them.
func applyBelow(t *testing.T, raw *sql.DB, files []string, versions []int64, upTo int64) {
	t.Helper()
	for i, f := range files {
		if versions[i] >= upTo {
			break
		}
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, raw, string(body))
	}
}

// openAt records the versions before upTo as applied, as Lethe's earlier
// migrator did, and opens the store, which then applies upTo and later.
func openAt(ctx context.Context, t *testing.T, dialect, url string, versions []int64, upTo int64) (*state.DB, error) {
	t.Helper()
	raw := openRaw(t, dialect, url)
	mustExec(t, raw, `CREATE TABLE lethe_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)`)
	for _, v := range versions {
		if v < upTo {
			mustExec(t, raw, rebind(dialect, "INSERT INTO lethe_migrations (version, name) VALUES (?, ?)"), v, filepath.Base("m"))
		}
	}
	raw.Close()
	return state.Open(ctx, url)
}

// TestTenants checks registration, its refusals, paging by slug, and that
// an update audits the names of the fields changed and never their values.
func TestTenants(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		s := &state.Tenants{DB: b.db, Audit: b.audit, Subject: b.hasher}
		got, err := s.Create(ctx, "admin", &dsr.Tenant{Slug: "calm-mind", DisplayName: " Calm Mind ",
			OwnerEmails: []string{"Owner@Calm.Example.com"}, BrandColor: "#2E7D32"})
		if err != nil {
			t.Fatal(err)
		}
		if got.DisplayName != "Calm Mind" || got.OwnerEmails[0] != "owner@calm.example.com" || !got.CreatedAt.Equal(t0.Truncate(time.Microsecond)) {
			t.Errorf("created %+v", got)
		}
		_, err = s.Create(ctx, "admin", &dsr.Tenant{Slug: "calm-mind", DisplayName: "again"})
		wantCode(t, err, dsr.ECONFLICT)
		for _, bad := range []dsr.Tenant{{Slug: "../x", DisplayName: "x"}, {Slug: "x"}, {Slug: "x", DisplayName: "x", BrandColor: "red"},
			{Slug: "x", DisplayName: "x", PrivacyContact: "nope"}, {Slug: "x", DisplayName: "x", OwnerEmails: []string{"nope"}}} {
			_, err = s.Create(ctx, "admin", &bad)
			wantCode(t, err, dsr.EUNPROCESSABLE)
		}
		wantCode(t, s.Known(ctx, "x"), dsr.ENOTFOUND)
		_, err = s.Get(ctx, "x")
		wantCode(t, err, dsr.ENOTFOUND)
		if err := s.Known(ctx, "calm-mind"); err != nil {
			t.Fatal(err)
		}
		for _, slug := range []string{"a", "b", "c"} {
			if _, err := s.Create(ctx, "admin", &dsr.Tenant{Slug: slug, DisplayName: slug}); err != nil {
				t.Fatal(err)
			}
		}
		var slugs []string
		for cur, pages := "", 0; ; pages++ {
			page, err := s.List(ctx, cur, 3)
			if err != nil {
				t.Fatal(err)
			}
			for _, tn := range page.Items {
				slugs = append(slugs, tn.Slug)
			}
			if cur = page.NextCursor; cur == "" {
				if pages != 1 {
					t.Errorf("%d pages of 3 for 4 tenants, want 2", pages+1)
				}
				break
			}
		}
		if strings.Join(slugs, ",") != "a,b,c,calm-mind" {
			t.Errorf("listed %v", slugs)
		}
		_, err = s.List(ctx, "forged", 3)
		wantCode(t, err, dsr.EINVALID)

		contact, owners := "privacy@calm.example.com", []string{"new-owner@calm.example.com"}
		up, err := s.Update(ctx, "key:k1", "calm-mind", dsr.TenantProfile{PrivacyContact: &contact, OwnerEmails: &owners})
		if err != nil {
			t.Fatal(err)
		}
		if up.PrivacyContact != contact || up.OwnerEmails[0] != owners[0] || up.DisplayName != "Calm Mind" || up.Slug != "calm-mind" {
			t.Errorf("updated %+v", up)
		}
		bad := "#12"
		_, err = s.Update(ctx, "admin", "calm-mind", dsr.TenantProfile{BrandColor: &bad})
		wantCode(t, err, dsr.EUNPROCESSABLE)
		_, err = s.Update(ctx, "admin", "x", dsr.TenantProfile{BrandColor: &bad})
		wantCode(t, err, dsr.ENOTFOUND)

		var details []string
		b.db.Gorm.Raw("SELECT details FROM lethe_audit WHERE action = 'tenant.updated'").Scan(&details)
		if len(details) != 1 || !strings.Contains(details[0], `"owner_emails"`) || !strings.Contains(details[0], `"privacy_contact"`) {
			t.Errorf("tenant.updated details %v: want the changed fields named", details)
		}
		var all []string
		b.db.Gorm.Raw("SELECT details FROM lethe_audit").Scan(&all)
		if joined := strings.Join(all, " "); strings.Contains(joined, "@") {
			t.Errorf("an address is in the audit trail: %s", joined)
		}
	})
}
