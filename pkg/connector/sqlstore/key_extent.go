package sqlstore

import (
	"context"
	"database/sql"

	"github.com/lethe-privacy/lethe/pkg/registry"
)

// integerTypes are the MySQL column types a primary-key window walks.
var integerTypes = map[string]bool{"tinyint": true, "smallint": true, "mediumint": true, "int": true, "bigint": true}

// keyExtent is Extent on MariaDB: for a table whose primary key is one
// integer column with no negative value, the largest key plus one and the
// estimated rows per key value, so that a sweep walks the table in
// windows of its clustered primary key ([from, to) by PurgeRange), reading
// each row once, as one unbatched DELETE would, in bounded transactions.
// MySQL, which has no DELETE … RETURNING, and other keys answer ok=false.
func (s *Store) keyExtent(ctx context.Context, c *registry.Collection) (end int64, rowsPerKey float64, ok bool, err error) {
	if len(c.PrimaryKey) != 1 || !s.isMariaDB(ctx) {
		return 0, 0, false, nil
	}
	var typ string
	var rows sql.NullInt64
	err = s.db.WithContext(ctx).Raw(`SELECT c.DATA_TYPE, t.TABLE_ROWS FROM information_schema.COLUMNS c
		JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
		WHERE c.TABLE_SCHEMA = DATABASE() AND c.TABLE_NAME = ? AND c.COLUMN_NAME = ?`, c.Table, c.PrimaryKey[0]).Row().Scan(&typ, &rows)
	if err == sql.ErrNoRows {
		return 0, 0, false, nil
	} else if err != nil {
		return 0, 0, false, s.fail(ctx, "size", c.Key, err)
	}
	if !integerTypes[typ] {
		return 0, 0, false, nil
	}
	q := s.newQuery()
	pk := q.col(c.PrimaryKey[0])
	var lo, hi sql.NullInt64
	if err := s.db.WithContext(ctx).Raw("SELECT MIN("+pk+"), MAX("+pk+") FROM "+q.ident(c.Table)).Row().Scan(&lo, &hi); err != nil {
		return 0, 0, false, s.fail(ctx, "size", c.Key, err)
	}
	if !lo.Valid || lo.Int64 < 0 {
		return 0, 0, false, nil // empty, or negative keys: Purge
	}
	return hi.Int64 + 1, float64(rows.Int64) / float64(hi.Int64-lo.Int64+1), true, nil
}
