package retention_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/testkit"
	"github.com/lethe-privacy/lethe/retention"
)

// tenantsRegistry is the fixture's registry with a tenant column on
// uploads too, notes that are anonymised, also by tenant, and ratings of
// chats that are anonymised and belong to their chat's studio.
var tenantsRegistry = strings.NewReplacer(
	"  app.uploads:\n", "  app.uploads:\n    tenant: studio_id\n",
	"retention: {batch_size", `  app.notes:
    tenant: studio_id
    references: {user_id: users.id}
    retention: {window: 30d, timestamp: created_at, action: anonymize}
    erasure: {anonymize: {body: "null"}}
  app.ratings:
    references: {chat_id: chats.id}
    retention: {window: 30d, timestamp: created_at, action: anonymize}
    erasure: {anonymize: {comment: "null"}}
retention: {batch_size`).Replace(fixtureRegistry)

// fillTenants fills the fixture's tables, gives each upload its chat's
// studio, one note per chat of its studio, user and age, and one rating
// per chat of its age.
func (f *fixture) fillTenants(t *testing.T) {
	t.Helper()
	f.fill(t)
	db := f.store.DB()
	for _, s := range []string{
		`ALTER TABLE uploads ADD COLUMN studio_id VARCHAR(64)`,
		`UPDATE uploads SET studio_id = (SELECT studio_id FROM chats WHERE chats.id = uploads.chat_id)`,
		`CREATE TABLE notes (id BIGINT PRIMARY KEY, studio_id VARCHAR(64) NOT NULL, user_id BIGINT NOT NULL REFERENCES users(id), body TEXT, created_at ` +
			testkit.TimestampType(f.driver) + ` NOT NULL)`,
		`CREATE TABLE ratings (id BIGINT PRIMARY KEY, chat_id BIGINT NOT NULL REFERENCES chats(id), comment TEXT, created_at ` +
			testkit.TimestampType(f.driver) + ` NOT NULL)`,
	} {
		if err := db.Exec(s).Error; err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range chats {
		if err := db.Exec(`INSERT INTO notes (id, studio_id, user_id, body, created_at) VALUES (?, ?, ?, ?, ?)`,
			c.id, c.studio, c.user, "a note", t0.Add(-c.age)).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Exec(`INSERT INTO ratings (id, chat_id, comment, created_at) VALUES (?, ?, ?, ?)`,
			c.id, c.id, "great", t0.Add(-c.age)).Error; err != nil {
			t.Fatal(err)
		}
	}
}

// perStudio is a run's non-zero counts by collection and studio.
func perStudio(r *retention.Run) map[string]retention.Count {
	out := map[string]retention.Count{}
	for _, c := range r.Counts {
		if c != (retention.Count{Collection: c.Collection, Tenant: c.Tenant}) {
			out[c.Collection+"@"+c.Tenant] = c
		}
	}
	return out
}

// TestDryRunCountsPerStudioAsTheSweep runs a dry run and then a sweep on
// studios' data under the registry's windows and a studio's own (s2 keeps
// chats 7 days), with carol held: the dry run's counts per collection and
// studio (rows purged, anonymised, files, held) equal the sweep's, so that
// an owner sees in a dry run the studio's share of what the registry's
// windows purge.
func TestDryRunCountsPerStudioAsTheSweep(t *testing.T) {
	testkit.ForEachDriver(t, func(t *testing.T, driver string) {
		f := newFixtureOf(t, driver, "", fmt.Sprintf(tenantsRegistry, driver), (*fixture).fillTenants)
		f.override(t, "s2", map[string]string{"app.chats": "7d"})
		f.hold(t, "", "carol@example.com")
		dry, err := f.sweeper(nil).Run(context.Background(), retention.Options{DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		real, err := f.sweeper(nil).Run(context.Background(), retention.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, want := perStudio(dry), perStudio(real)
		for key, w := range want {
			if got[key] != w {
				t.Errorf("%s: dry run counted %+v; the sweep %+v", key, got[key], w)
			}
		}
		for key, g := range got {
			if _, ok := want[key]; !ok {
				t.Errorf("%s: dry run counted %+v; the sweep nothing", key, g)
			}
		}
		// The registry's windows count rows purged, anonymised, files and
		// rows held per studio: s1's chat 10 with its upload u/10, and
		// u/11a; s3's chat 30 with u/30; carol's chat 12, its messages,
		// note and rating are held under s1. Messages and ratings, which
		// have no studio column, count under their chat's studio: those
		// past the window (chats 10, 20 and 30's first two), then those
		// of the chats purged (10 and 30 by the registry's window, 20 and
		// 21 by s2's); ratings past the window are anonymised, then those
		// of the chats purged are purged with them. Nothing counts under
		// no studio.
		for key, c := range map[string]retention.Count{
			"app.chats@s1":    {RowsPurged: 1, RowsHeld: 1},
			"app.chats@s3":    {RowsPurged: 1},
			"app.uploads@s1":  {RowsPurged: 2, FilesPurged: 2},
			"app.uploads@s3":  {RowsPurged: 1, FilesPurged: 1},
			"app.messages@s1": {RowsPurged: 3, RowsHeld: 2},
			"app.messages@s2": {RowsPurged: 6},
			"app.messages@s3": {RowsPurged: 3},
			"app.notes@s1":    {RowsAnonymized: 1, RowsHeld: 1},
			"app.notes@s2":    {RowsAnonymized: 1},
			"app.notes@s3":    {RowsAnonymized: 1},
			"app.ratings@s1":  {RowsAnonymized: 1, RowsPurged: 1, RowsHeld: 1},
			"app.ratings@s2":  {RowsAnonymized: 1, RowsPurged: 2},
			"app.ratings@s3":  {RowsAnonymized: 1, RowsPurged: 1},
		} {
			g := got[key]
			if g.RowsPurged != c.RowsPurged || g.RowsAnonymized != c.RowsAnonymized || g.FilesPurged != c.FilesPurged || g.RowsHeld != c.RowsHeld {
				t.Errorf("%s: dry run counted %+v; want %+v", key, g, c)
			}
		}
		for key, c := range want {
			if c.Tenant == "" {
				t.Errorf("%s: the sweep counted %+v under no studio", key, c)
			}
		}
	})
}
