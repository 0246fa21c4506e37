package sqlstore_test

import (
	"context"
	"maps"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// TestNonTextColumns: the redact action's column types, per driver: text,
// varchar and JSON columns may be rewritten; integers, dates, booleans and
// (on Postgres) inet columns may not.
func TestNonTextColumns(t *testing.T) {
	for _, tc := range []struct {
		driver, table string
		want          map[string]string
	}{
		{registry.DriverSQLite, `CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT, name VARCHAR(40), meta JSON, phone BIGINT, seen TIMESTAMP, anything)`,
			map[string]string{"id": "INTEGER", "phone": "BIGINT", "seen": "TIMESTAMP"}},
		{registry.DriverPostgres, `CREATE TABLE t (id BIGINT PRIMARY KEY, body TEXT, name VARCHAR(40), meta JSONB, phone BIGINT, ip INET, tags TEXT[])`,
			map[string]string{"id": "INT8", "phone": "INT8", "ip": "INET", "tags": "_TEXT"}},
		{registry.DriverMySQL, `CREATE TABLE t (id BIGINT PRIMARY KEY, body TEXT, name VARCHAR(40), meta LONGTEXT, phone BIGINT, seen DATETIME, ok BOOLEAN)`,
			map[string]string{"id": "BIGINT", "phone": "BIGINT", "seen": "DATETIME", "ok": "TINYINT"}},
	} {
		t.Run(tc.driver, func(t *testing.T) {
			s := testkit.OpenStore(t, "app", tc.driver, tc.table)
			var cols []string
			rows, err := s.DB().Raw("SELECT * FROM t LIMIT 0").Rows()
			if err != nil {
				t.Fatal(err)
			}
			cols, _ = rows.Columns()
			rows.Close()
			got, err := s.NonTextColumns(context.Background(), "t", cols)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("NonTextColumns = %v; want %v", got, tc.want)
			}
		})
	}
}
