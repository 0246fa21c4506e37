package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/lethe-privacy/lethe/pkg/registry"
)

// keySep separates column names in the one-string lists the key queries
// return (a column name never holds the unit separator).
const keySep = "\x1f"

// Keys returns the primary key and the unique indexes of table over plain
// columns: expression and partial indexes are left out, since they do not
// tell rows apart over the whole table. On SQLite the primary key is read
// from the table's columns (an INTEGER PRIMARY KEY has no index).
func (s *Store) Keys(ctx context.Context, table string) ([]registry.Key, error) {
	schema, name := splitTable(table)
	var query string
	var args []any
	switch s.driver {
	case registry.DriverPostgres:
		query = `SELECT ic.relname, ix.indisprimary,
				(SELECT string_agg(a.attname, chr(31) ORDER BY k.o) FROM unnest((ix.indkey::int2[])[0:ix.indnkeyatts-1]) WITH ORDINALITY AS k(n, o)
					JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.n),
				(SELECT bool_and(a.attnotnull) FROM unnest((ix.indkey::int2[])[0:ix.indnkeyatts-1]) AS k(n)
					JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.n)
			FROM pg_index ix
			JOIN pg_class ic ON ic.oid = ix.indexrelid
			JOIN pg_class tc ON tc.oid = ix.indrelid
			JOIN pg_namespace n ON n.oid = tc.relnamespace
			WHERE n.nspname = COALESCE(?, current_schema()) AND tc.relname = ?
				AND ix.indisunique AND ix.indpred IS NULL AND ix.indexprs IS NULL`
		args = []any{schema, name}
	case registry.DriverMySQL:
		query = `SELECT INDEX_NAME, INDEX_NAME = 'PRIMARY', GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX SEPARATOR 0x1f),
				SUM(NULLABLE = 'YES') = 0
			FROM information_schema.STATISTICS
			WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND NON_UNIQUE = 0
			GROUP BY INDEX_NAME HAVING SUM(COLUMN_NAME IS NULL) = 0`
		args = []any{schema, name}
	default:
		query = `SELECT 'primary', 1, group_concat(name, char(31)), 1
				FROM (SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk) HAVING count(*) > 0
			UNION ALL
			SELECT il.name, 0,
				(SELECT group_concat(name, char(31)) FROM (SELECT ii.name FROM pragma_index_info(il.name) ii ORDER BY ii.seqno)),
				(SELECT min(ti."notnull") FROM pragma_index_info(il.name) ii JOIN pragma_table_info(?) ti ON ti.name = ii.name)
			FROM pragma_index_list(?) il
			WHERE il."unique" = 1 AND il.partial = 0 AND il.origin <> 'pk'
				AND NOT EXISTS (SELECT 1 FROM pragma_index_info(il.name) ii WHERE ii.name IS NULL)`
		args = []any{table, table, table}
	}
	rows, err := s.db.WithContext(ctx).Raw(query, args...).Rows()
	if err != nil {
		return nil, s.fail(ctx, "read the keys of", table, err)
	}
	defer rows.Close()
	var out []registry.Key
	for rows.Next() {
		var k registry.Key
		var cols sql.NullString
		var notNull sql.NullBool
		if err := rows.Scan(&k.Name, &k.Primary, &cols, &notNull); err != nil {
			return nil, fmt.Errorf("read the keys of %s: %w", table, err)
		}
		if !cols.Valid || cols.String == "" {
			continue
		}
		k.Columns, k.NotNull = strings.Split(cols.String, keySep), notNull.Valid && notNull.Bool
		out = append(out, k)
	}
	return out, rows.Err()
}

// checkKey refuses to write to c's table unless c's primary key is one of
// the table's own keys (see registry.MatchKey): a statement that addressed
// rows by columns that are not unique would change other people's rows.
// CheckLive refuses such a registry at start; this holds for any registry
// the store is handed. A key found good is cached per table; a refusal is
// asked again, so a table given a key is written without a restart.
func (s *Store) checkKey(ctx context.Context, c *registry.Collection) error {
	cacheKey := c.Table + keySep + strings.Join(c.PrimaryKey, keySep)
	if _, ok := s.keyed.Load(cacheKey); ok {
		return nil
	}
	keys, err := s.Keys(ctx, c.Table)
	if err != nil {
		return err
	}
	if _, err := registry.MatchKey(c.PrimaryKey, true, c.Table, keys); err != nil {
		return fmt.Errorf("collection %s: refusing to write: %w", c.Key, err)
	}
	s.keyed.Store(cacheKey, true)
	return nil
}
