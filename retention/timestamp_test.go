package retention_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/testkit"
	"github.com/lethe-privacy/lethe/retention"
)

const stampRegistry = `
stores:
  app: {kind: sql, driver: %s, dsn_env: APP_DSN}
collections:
  app.chats:
    identity: {email: email}
    retention: {window: %s, timestamp: %s}
    erasure: delete
`

// stampRow is a chat dated by created_at as the application wrote it.
type stampRow struct {
	id    int64
	stamp any
}

// stampFill returns a fill that creates chats with created_at of type typ
// and the rows given.
func stampFill(typ string, rows []stampRow) func(*fixture, *testing.T) {
	return func(f *fixture, t *testing.T) {
		db := f.store.DB()
		if err := db.Exec(`CREATE TABLE chats (id BIGINT PRIMARY KEY, email VARCHAR(255) NOT NULL, created_at ` + typ + `)`).Error; err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if err := db.Exec(`INSERT INTO chats (id, email, created_at) VALUES (?, ?, ?)`, r.id, "a@example.com", r.stamp).Error; err != nil {
				t.Fatal(err)
			}
		}
	}
}

// ages are the chats' ages, 0 to 90 days, by id.
var ages = map[int64]time.Duration{1: 0, 2: 10 * day, 3: 45 * day, 4: 90 * day}

func epochRows(unit func(time.Time) int64) []stampRow {
	var out []stampRow
	for id := int64(1); id <= 4; id++ {
		out = append(out, stampRow{id, unit(t0.Add(-ages[id]))})
	}
	return out
}

// TestSweepEpochAndTextTimestamps sweeps chats dated by epoch numbers and
// ISO-8601 text: a ten-year window purges none of the 0 to 90 days old
// chats, a 30-day window the two older ones, on every dialect.
func TestSweepEpochAndTextTimestamps(t *testing.T) {
	cutoff := t0.Add(-30 * day)
	text := []stampRow{
		{1, t0.Format(time.RFC3339)},
		{2, t0.Add(-10 * day).In(time.FixedZone("", 2*3600)).Format(time.RFC3339)},
		{3, t0.Add(-45 * day).Format("2006-01-02T15:04:05.000Z07:00")},
		{4, t0.Add(-90 * day).Format(time.DateOnly)},
		// One hour inside the window, written five hours behind UTC: read
		// without its offset it would look older than the cut-off.
		{5, cutoff.Add(time.Hour).In(time.FixedZone("", -5*3600)).Format(time.RFC3339)},
		// One hour past it, written five hours ahead: it must go.
		{6, cutoff.Add(-time.Hour).In(time.FixedZone("", 5*3600)).Format(time.RFC3339)},
	}
	cases := []struct {
		name, typ, timestamp string
		rows                 []stampRow
		window               string
		left                 []string
	}{
		{"seconds 3650d", "BIGINT", "{column: created_at, unit: s}", epochRows(time.Time.Unix), "3650d", []string{"1", "2", "3", "4"}},
		{"seconds 30d", "BIGINT", "{column: created_at, unit: s}", epochRows(time.Time.Unix), "30d", []string{"1", "2"}},
		{"millis 3650d", "BIGINT", "{column: created_at, unit: ms}", epochRows(time.Time.UnixMilli), "3650d", []string{"1", "2", "3", "4"}},
		{"millis 30d", "BIGINT", "{column: created_at, unit: ms}", epochRows(time.Time.UnixMilli), "30d", []string{"1", "2"}},
		{"micros 30d", "BIGINT", "{column: created_at, unit: us}", epochRows(time.Time.UnixMicro), "30d", []string{"1", "2"}},
		{"nanos 30d", "BIGINT", "{column: created_at, unit: ns}", epochRows(time.Time.UnixNano), "30d", []string{"1", "2"}},
		{"text 30d", "VARCHAR(64)", "created_at", text, "30d", []string{"1", "2", "5"}},
	}
	testkit.ForEachDriver(t, func(t *testing.T, driver string) {
		for _, tc := range cases {
			t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
				f := newFixtureOf(t, driver, "", fmt.Sprintf(stampRegistry, driver, tc.window, tc.timestamp), stampFill(tc.typ, tc.rows))
				if _, err := f.reg.CheckLive(context.Background(), sqlstore.Stores{"app": f.store}.Schemas()); err != nil {
					t.Fatal(err)
				}
				dry, err := f.sweeper(nil).Run(context.Background(), retention.Options{DryRun: true})
				if err != nil {
					t.Fatal(err)
				}
				if n := sums(dry)["app.chats"].RowsPurged; n != int64(len(tc.rows)-len(tc.left)) {
					t.Errorf("dry run would purge %d, want %d", n, len(tc.rows)-len(tc.left))
				}
				if _, err := f.sweeper(nil).Run(context.Background(), retention.Options{Trigger: retention.TriggerCLI}); err != nil {
					t.Fatal(err)
				}
				if got := f.ids(t, "chats"); !slices.Equal(got, tc.left) {
					t.Errorf("left %v, want %v", got, tc.left)
				}
			})
		}
	})
}

// TestSweepRefusesUndatedTimestamp checks that a column Lethe cannot date
// (a number without a unit, a unit on a date/time column, a boolean) is
// reported by CheckLive and that neither a sweep nor a dry run touches it.
func TestSweepRefusesUndatedTimestamp(t *testing.T) {
	cases := []struct {
		name, typ, timestamp string
		stamp                func(time.Time) any
		want                 string
	}{
		{"number without unit", "BIGINT", "created_at", func(v time.Time) any { return v.Unix() }, "without a unit"},
		{"unit on date/time", "TIMESTAMP", "{column: created_at, unit: s}", func(v time.Time) any { return v }, "remove unit"},
		{"boolean", "BOOLEAN", "created_at", func(time.Time) any { return true }, "not a date/time, a number or text"},
	}
	testkit.ForEachDriver(t, func(t *testing.T, driver string) {
		for _, tc := range cases {
			t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
				typ := tc.typ
				if driver == registry.DriverMySQL && typ == "TIMESTAMP" {
					typ = "DATETIME"
				}
				if driver == registry.DriverSQLite && typ == "BOOLEAN" {
					typ = "BLOB"
				}
				rows := epochRows(func(v time.Time) int64 { return 0 })
				for i := range rows {
					rows[i].stamp = tc.stamp(t0.Add(-ages[rows[i].id]))
				}
				f := newFixtureOf(t, driver, "", fmt.Sprintf(stampRegistry, driver, "3650d", tc.timestamp), stampFill(typ, rows))
				_, err := f.reg.CheckLive(context.Background(), sqlstore.Stores{"app": f.store}.Schemas())
				if err == nil || !strings.Contains(err.Error(), "collections.app.chats.retention.timestamp") || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("CheckLive = %v, want %q", err, tc.want)
				}
				for _, dry := range []bool{true, false} {
					if _, err := f.sweeper(nil).Run(context.Background(), retention.Options{DryRun: dry}); err == nil || !strings.Contains(err.Error(), tc.want) {
						t.Errorf("run (dry %v) = %v, want refused: %q", dry, err, tc.want)
					}
				}
				if got := f.ids(t, "chats"); len(got) != 4 {
					t.Errorf("left %v, want all four", got)
				}
			})
		}
	})
}

// TestNotesShowCutoffAsStored checks the cut-off config check prints, as
// the column stores it, for epoch seconds and milliseconds, ISO-8601 text
// and a native date/time column, on every dialect.
func TestNotesShowCutoffAsStored(t *testing.T) {
	native := map[string]string{registry.DriverPostgres: "TIMESTAMP", registry.DriverMySQL: "DATETIME(6)", registry.DriverSQLite: "DATETIME"}
	testkit.ForEachDriver(t, func(t *testing.T, driver string) {
		for _, tc := range []struct{ typ, timestamp, want string }{
			{"BIGINT", "{column: created_at, unit: s}", "created_at < 1448841600 (2015-11-30)"},
			{"BIGINT", "{column: created_at, unit: ms}", "created_at < 1448841600000 (2015-11-30)"},
			{"VARCHAR(64)", "created_at", "created_at < '2015-11-30T00:00:00Z'"},
			{native[driver], "created_at", "created_at < 2015-11-30 00:00:00 UTC"},
		} {
			t.Run(tc.typ+"_"+tc.timestamp, func(t *testing.T) {
				f := newFixtureOf(t, driver, "", fmt.Sprintf(stampRegistry, driver, "3650d", tc.timestamp), stampFill(tc.typ, nil))
				if _, err := f.reg.CheckLive(context.Background(), sqlstore.Stores{"app": f.store}.Schemas()); err != nil {
					t.Fatal(err)
				}
				notes := f.reg.Notes(time.Date(2025, 11, 27, 0, 0, 0, 0, time.UTC))
				want := "collections.app.chats.retention: purges rows with " + tc.want
				if !slices.Contains(notes, want) {
					t.Errorf("notes = %q, want %q", notes, want)
				}
			})
		}
	})
}

// TestSQLiteDatetimeHoldingNumbers: SQLite keeps whatever is written in a
// DATETIME column; epoch numbers there are never taken for expired rows
// (compared as written, every number sorts before every date), while dates
// written with a "T" and an offset are read as the times they are.
func TestSQLiteDatetimeHoldingNumbers(t *testing.T) {
	rows := epochRows(time.Time.Unix)
	rows = append(rows, stampRow{5, t0.Add(-40 * day).In(time.FixedZone("", 3600)).Format(time.RFC3339)})
	f := newFixtureOf(t, registry.DriverSQLite, "", fmt.Sprintf(stampRegistry, registry.DriverSQLite, "30d", "created_at"), stampFill("DATETIME", rows))
	if _, err := f.reg.CheckLive(context.Background(), sqlstore.Stores{"app": f.store}.Schemas()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.sweeper(nil).Run(context.Background(), retention.Options{Trigger: retention.TriggerCLI}); err != nil {
		t.Fatal(err)
	}
	if got := f.ids(t, "chats"); !slices.Equal(got, []string{"1", "2", "3", "4"}) {
		t.Errorf("left %v, want the four numbers kept and the dated row 5 purged", got)
	}
}

// TestCheckLiveDoubtsEpochUnit: epoch seconds declared as milliseconds
// would date every row in 1970 and purge it; CheckLive reads a sample and
// refuses the unit, naming the date the values would read as.
func TestCheckLiveDoubtsEpochUnit(t *testing.T) {
	testkit.ForEachDriver(t, func(t *testing.T, driver string) {
		for _, tc := range []struct {
			unit string
			want string
		}{
			{"ms", "which in unit ms reads as 1970-01-"},
			{"s", ""},
		} {
			f := newFixtureOf(t, driver, "", fmt.Sprintf(stampRegistry, driver, "30d", "{column: created_at, unit: "+tc.unit+"}"),
				stampFill("BIGINT", epochRows(time.Time.Unix)))
			_, err := f.reg.CheckLive(context.Background(), sqlstore.Stores{"app": f.store}.Schemas())
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unit %s: %v", tc.unit, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), "collections.app.chats.retention.timestamp.unit: column \"created_at\" holds") ||
				!strings.Contains(err.Error(), tc.want)):
				t.Errorf("unit %s: err = %v, want %q", tc.unit, err, tc.want)
			}
		}
	})
}
