package sqlstore

import (
	"context"
	"strings"

	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// Index kinds MentionIndex reports (the engine's IndexTrigram and
// IndexFulltext).
const (
	indexTrigram  = "pg_trgm"
	indexFulltext = "fulltext"
)

// MentionIndex reports the index that serves a scan for mentions in
// c's column: "pg_trgm" for a Postgres GIN index with gin_trgm_ops on the
// column, "fulltext" for a MySQL or MariaDB FULLTEXT index on the column
// alone, "" for none (always on SQLite, whose FTS5 tables are apart).
func (s *Store) MentionIndex(ctx context.Context, c *registry.Collection, column string) (string, error) {
	switch s.driver {
	case registry.DriverPostgres:
		ixs, err := s.Indexes(ctx, c.Table)
		if err != nil {
			return "", err
		}
		for _, ix := range ixs {
			if len(ix.Columns) == 1 && strings.EqualFold(ix.Columns[0], column) &&
				strings.Contains(ix.Definition, "gin_trgm_ops") && strings.Contains(strings.ToLower(ix.Definition), "using gin") {
				return indexTrigram, nil
			}
		}
	case registry.DriverMySQL:
		schema, name := splitTable(c.Table)
		names, err := s.strings(ctx, `SELECT INDEX_NAME FROM information_schema.STATISTICS
			WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND INDEX_TYPE = 'FULLTEXT'
			GROUP BY INDEX_NAME HAVING COUNT(*) = 1 AND MAX(COLUMN_NAME) = ?`, schema, name, column)
		if err != nil {
			return "", s.fail(ctx, "read the indexes of", c.Table, err)
		}
		if len(names) > 0 {
			return indexFulltext, nil
		}
	}
	return "", nil
}

// contains writes the prefilter of a Selection: "AND (col ILIKE ? OR …)"
// for a trigram index, "AND MATCH (col) AGAINST (? IN BOOLEAN MODE)" for
// a FULLTEXT one, whose query holds each string as a phrase ("ada
// lovelace") or, for one word, as a prefix (lovelace*), so that
// "Lovelace's" is found too.
func (q *query) contains(ct *connector.Contains) {
	if ct == nil || len(ct.Any) == 0 {
		return
	}
	col := q.col(ct.Column)
	if ct.Index == indexFulltext && q.driver == registry.DriverMySQL {
		terms := make([]string, len(ct.Any))
		for i, s := range ct.Any {
			s = strings.NewReplacer(`"`, " ", `*`, " ").Replace(s)
			if strings.ContainsAny(s, " @.-+'") {
				terms[i] = `"` + s + `"`
			} else {
				terms[i] = s + "*"
			}
		}
		q.write(" AND MATCH (", col, ") AGAINST (").arg(strings.Join(terms, " ")).write(" IN BOOLEAN MODE)")
		return
	}
	like := "LOWER(" + col + ") LIKE "
	if q.driver == registry.DriverPostgres {
		like = col + " ILIKE "
	}
	q.write(" AND (")
	for i, s := range ct.Any {
		if i > 0 {
			q.write(" OR ")
		}
		q.write(like).arg("%" + escapeLike(strings.ToLower(s)) + "%").write(` ESCAPE '!'`)
	}
	q.write(")")
}

// escapeLike escapes LIKE's wildcards with '!'.
func escapeLike(s string) string {
	return strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(s)
}
