package registry_test

import (
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/pkg/registry"
)

func TestTimestampForms(t *testing.T) {
	for _, tc := range []struct {
		name, timestamp, unit, problem string
	}{
		{"short form", "created_at", "", ""},
		{"with unit", "{column: created_at, unit: ms}", "ms", ""},
		{"unknown unit", "{column: created_at, unit: days}", "", "collections.app.chats.retention.timestamp.unit: unknown unit \"days\""},
		{"unit without column", "{unit: s}", "", "collections.app.chats.retention.timestamp.column: required"},
		{"unknown key", "{column: created_at, zone: UTC}", "", "unknown key \"zone\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(valid, "retention: {window: 30d, timestamp: created_at}", "retention: {window: 30d, timestamp: "+tc.timestamp+"}", 1)
			r, err := registry.Parse([]byte(src))
			if tc.problem != "" {
				if err == nil || !strings.Contains(err.Error(), tc.problem) {
					t.Fatalf("err = %v, want %q", err, tc.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ret := r.Collections["app.chats"].Retention
			if ret.Timestamp != "created_at" || ret.Unit != tc.unit {
				t.Errorf("timestamp %q unit %q, want created_at %q", ret.Timestamp, ret.Unit, tc.unit)
			}
			again, err := registry.Parse(r.Marshal())
			if err != nil || again.Collections["app.chats"].Retention.Unit != tc.unit || again.Version() != r.Version() {
				t.Errorf("canonical form lost the unit: %v", err)
			}
		})
	}
}

func TestTimeStorage(t *testing.T) {
	for _, tc := range []struct {
		driver, typ, unit string
		want              registry.TimeKind
		problem           string
	}{
		{registry.DriverPostgres, "timestamp with time zone", "", registry.TimeNative, ""},
		{registry.DriverPostgres, "bigint", "s", registry.TimeEpoch, ""},
		{registry.DriverPostgres, "bigint", "", registry.TimeEpoch, "without a unit"},
		{registry.DriverPostgres, "character varying", "", registry.TimeText, ""},
		{registry.DriverPostgres, "jsonb", "", registry.TimeUnknown, "not a date/time"},
		{registry.DriverMySQL, "datetime", "s", registry.TimeNative, "remove unit"},
		{registry.DriverMySQL, "tinyint", "s", registry.TimeUnknown, "not a date/time"},
		{registry.DriverSQLite, "BIGINT", "ms", registry.TimeEpoch, ""},
		{registry.DriverSQLite, "DATETIME", "", registry.TimeNative, ""},
		{registry.DriverSQLite, "", "", registry.TimeUnknown, "not a date/time"},
	} {
		k, err := registry.TimeStorage(tc.driver, tc.typ, tc.unit)
		if k != tc.want || (tc.problem == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.problem)) {
			t.Errorf("%s %q unit %q = %v, %v; want %v, %q", tc.driver, tc.typ, tc.unit, k, err, tc.want, tc.problem)
		}
	}
}

func TestFormatCutoff(t *testing.T) {
	at := time.Date(2015, 11, 30, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		kind registry.TimeKind
		unit string
		want string
	}{
		{registry.TimeEpoch, "s", "1448841600 (2015-11-30)"},
		{registry.TimeEpoch, "ms", "1448841600000 (2015-11-30)"},
		{registry.TimeText, "", "'2015-11-30T00:00:00Z'"},
		{registry.TimeNative, "", "2015-11-30 00:00:00 UTC"},
	} {
		if got := registry.FormatCutoff(tc.kind, tc.unit, at); got != tc.want {
			t.Errorf("%v %s = %q, want %q", tc.kind, tc.unit, got, tc.want)
		}
	}
}
