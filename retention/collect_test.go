package retention_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/pkg/testkit"
	"github.com/lethe-privacy/lethe/retention"
)

// singleTenantRegistry is an application without tenants that does not
// collect responses.
const singleTenantRegistry = `
collect_responses: false
stores:
  app: {kind: sql, driver: %s, dsn_env: APP_DSN}
collections:
  app.users:
    identity: {email: email}
    erasure: delete
  app.answers:
    references: {user_id: users.id}
    responses: true
    retention: {window: 3650d, timestamp: created_at}
    erasure: delete
`

// TestRunResponsesWithoutTenants: with collect_responses: false the
// responses sweep purges every stored response dated before it, in an
// application without tenants, and leaves the rest of the data alone.
func TestRunResponsesWithoutTenants(t *testing.T) {
	testkit.ForEachDriver(t, func(t *testing.T, driver string) {
		ctx := context.Background()
		f := newFixtureOf(t, driver, "", fmt.Sprintf(singleTenantRegistry, driver), func(f *fixture, t *testing.T) {
			ts := testkit.TimestampType(driver)
			for _, stmt := range []string{
				`CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL)`,
				`CREATE TABLE answers (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, body TEXT, created_at ` + ts + ` NOT NULL)`,
			} {
				if err := f.store.DB().Exec(stmt).Error; err != nil {
					t.Fatal(err)
				}
			}
			for id, email := range users {
				if err := f.store.DB().Exec(`INSERT INTO users (id, email) VALUES (?, ?)`, id, email).Error; err != nil {
					t.Fatal(err)
				}
			}
			// Two answers stored before the sweep, one written after its as-of.
			for id, at := range map[int64]time.Time{1: t0.Add(-day), 2: t0.Add(-time.Hour), 3: t0.Add(time.Hour)} {
				if err := f.store.DB().Exec(`INSERT INTO answers (id, user_id, body, created_at) VALUES (?, ?, ?, ?)`,
					id, 1, "my answer", at).Error; err != nil {
					t.Fatal(err)
				}
			}
		})
		sw := f.sweeper(nil)
		run, err := sw.RunResponses(ctx, retention.Options{})
		if err != nil || run == nil {
			t.Fatalf("RunResponses = %v, %v; want a run", run, err)
		}
		if run.Kind != retention.KindResponses || sums(run)["app.answers"].RowsPurged != 2 {
			t.Errorf("run %s purged %+v; want 2 answers", run.Kind, run.Counts)
		}
		if got := f.ids(t, "answers"); !slices.Equal(got, []string{"3"}) {
			t.Errorf("answers left %v; want the one written after the sweep", got)
		}
		if got := f.ids(t, "users"); !slices.Equal(got, []string{"1", "2", "3"}) {
			t.Errorf("users left %v; want all", got)
		}
		if again, err := sw.RunResponses(ctx, retention.Options{}); again != nil || err != nil {
			t.Errorf("second sweep = %v, %v; want nothing to do", again, err)
		}
	})
}
