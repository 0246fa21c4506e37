package sqlstore

import (
	"context"
	"slices"
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
// a FULLTEXT one, whose query holds each string as a prefix (lovelace*),
// so that "Lovelace's" is found too. A FULLTEXT index holds only words of
// letters and digits, of three characters or more, and no stop word: for
// a string it cannot find whole, nothing is written and every row is read.
func (q *query) contains(ct *connector.Contains) {
	if ct == nil || len(ct.Any) == 0 {
		return
	}
	col := q.col(ct.Column)
	if ct.Index == indexFulltext && q.driver == registry.DriverMySQL {
		terms := make([]string, len(ct.Any))
		for i, s := range ct.Any {
			if !fulltextWord(s) {
				return
			}
			terms[i] = s + "*"
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

// fulltextWord reports whether s is one word that a FULLTEXT index of
// InnoDB's default settings holds: ASCII letters and digits only (no
// boolean operator, no separator), three characters or more
// (innodb_ft_min_token_size), not a default stop word.
func fulltextWord(s string) bool {
	if len(s) < 3 || slices.Contains(innodbStopwords, strings.ToLower(s)) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// innodbStopwords is INFORMATION_SCHEMA.INNODB_FT_DEFAULT_STOPWORD of three
// letters or more.
var innodbStopwords = []string{"about", "are", "com", "for", "from", "how", "the", "this", "that", "was", "what", "when", "where", "who", "will", "with", "und", "www"}

// escapeLike escapes LIKE's wildcards with '!'.
func escapeLike(s string) string {
	return strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(s)
}

// MentionCost is what a scan for mentions in a collection reads, for
// lethe config check.
type MentionCost struct {
	Rows, Bytes int64 // rows of the table, bytes of its mention columns
	// Index is the index that serves the scan ("pg_trgm", "fulltext"), ""
	// for none; Advice says how to make the scan cheap, "" when it is.
	Index, Advice string
}

// MentionCost counts the rows of c's table and the bytes of its mention
// columns (one full read, as a scan without an index does) and finds the
// index that would serve the scan.
func (s *Store) MentionCost(ctx context.Context, c *registry.Collection) (MentionCost, error) {
	q := s.newQuery()
	cols := c.MentionColumns()
	size := "0"
	for _, col := range cols {
		expr := "LENGTH(" + q.col(col) + ")"
		switch s.driver {
		case registry.DriverPostgres:
			expr = "OCTET_LENGTH(" + q.col(col) + "::text)"
		case registry.DriverSQLite:
			expr = "LENGTH(CAST(" + q.col(col) + " AS BLOB))"
		}
		size += " + COALESCE(SUM(" + expr + "), 0)"
	}
	var out MentionCost
	row := s.db.WithContext(ctx).Raw("SELECT COUNT(*), " + size + " FROM " + q.ident(c.Table)).Row()
	if err := row.Scan(&out.Rows, &out.Bytes); err != nil {
		return out, s.fail(ctx, "measure", c.Key, err)
	}
	if len(cols) != 1 {
		out.Advice = "mentions in several columns are scanned without an index: every row is read"
		return out, nil
	}
	var err error
	if out.Index, err = s.MentionIndex(ctx, c, cols[0]); err != nil || out.Index != "" {
		return out, err
	}
	_, table := splitTable(c.Table)
	name := q.ident(table + "_" + cols[0] + "_mentions")
	switch s.driver {
	case registry.DriverPostgres:
		out.Advice = "CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE INDEX " + name + " ON " + q.ident(c.Table) + " USING gin (" + q.col(cols[0]) + " gin_trgm_ops)"
	case registry.DriverMySQL:
		out.Advice = "ALTER TABLE " + q.ident(c.Table) + " ADD FULLTEXT INDEX " + name + " (" + q.col(cols[0]) + ")"
	default:
		out.Advice = "SQLite has no index for a search inside text: every row is read"
	}
	return out, nil
}
