package sqlstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/retention"
)

// Delete deletes up to limit of sel's rows in one statement:
//
//	DELETE FROM t WHERE pk IN (SELECT pk FROM (SELECT pk FROM t WHERE … LIMIT n) AS lethe_batch)
//
// The derived table lets MySQL/MariaDB take a LIMIT and the target table in
// the sub-select. Postgres deletes by row address instead,
//
//	DELETE FROM t WHERE ctid = ANY(ARRAY(SELECT ctid FROM t WHERE … LIMIT n))
//
// because it plans the IN form as a hash join over a scan of the whole
// table, once per batch — but only on a plain table: a partitioned or
// inherited one takes the IN form (see addressable). A row updated between
// the sub-select and the delete moves and is left to the next batch (and to
// verification). With ahead, the batch is first read (see window), told to
// ahead, and the statement bounded to it (pk <= its last key): two round
// trips instead of one.
func (s *Store) Delete(ctx context.Context, sel connector.Selection, limit int, ahead connector.Ahead) (int64, error) {
	if err := bounded(sel); err != nil {
		return 0, err
	}
	if err := s.checkKey(ctx, sel.Collection); err != nil {
		return 0, err
	}
	byAddress, err := s.addressable(ctx, sel.Collection)
	if err != nil {
		return 0, err
	}
	if ahead != nil {
		last, n, err := s.window(ctx, sel, limit)
		if err != nil || n == 0 {
			return 0, err
		}
		if err := ahead(last, n); err != nil {
			return 0, err
		}
		sel.Through = &last
	}
	q, err := s.batchDelete(ctx, sel, limit, byAddress, false)
	if err != nil {
		return 0, err
	}
	res := s.db.WithContext(ctx).Exec(q.sql.String(), q.args...)
	if res.Error != nil {
		return 0, s.fail(ctx, "delete", sel.Collection.Key, res.Error)
	}
	return res.RowsAffected, nil
}

// batchDelete is Delete's statement: up to limit of sel's rows, by row
// address when byAddress, else by key. With recheck the key form tests
// the selection again on each row it deletes,
//
//	DELETE FROM t WHERE … AND pk IN (SELECT pk FROM (SELECT pk FROM t WHERE … LIMIT n) AS lethe_batch)
//
// so that a row the application updates while the delete waits for it is
// deleted if still sel's (Postgres checks the condition again on the new
// version) and left if no longer; by address, it would be skipped.
func (s *Store) batchDelete(ctx context.Context, sel connector.Selection, limit int, byAddress, recheck bool) (*query, error) {
	q, err := s.selecting(ctx, sel)
	if err != nil {
		return nil, err
	}
	t, pk := q.ident(sel.Collection.Table), q.orderBy(sel.Collection.PrimaryKey)
	q.write("DELETE FROM ", t, " WHERE ")
	if byAddress {
		q.write("ctid = ANY(ARRAY(SELECT ctid FROM ", t, " WHERE ")
	} else {
		if recheck {
			if err := q.where(sel); err != nil {
				return nil, err
			}
			q.write(" AND ")
		}
		q.write(q.cols(sel.Collection.PrimaryKey), " IN (SELECT ", pk, " FROM (SELECT ", pk, " FROM ", t, " WHERE ")
	}
	if err := q.where(sel); err != nil {
		return nil, err
	}
	if byAddress {
		q.write(" LIMIT ", strconv.Itoa(limit), "))")
	} else {
		q.write(" LIMIT ", strconv.Itoa(limit), ") AS lethe_batch)")
	}
	return q, nil
}

// DeleteEach implements connector.GroupDeleter: Delete's statement for
// each selection, in order (children first), in one transaction, so that a
// small subject's collections cost the store one commit (one wait for its
// disk) instead of one each. Each is its own statement, as one by one: it
// sees the deletes before it and what their triggers changed (a child's
// trigger updating a counter on its parent row), which the data-modifying
// WITHs of one Postgres statement do not (SQLSTATE 27000). A selection that
// deletes limit rows may have more left, its parent's delete would then go
// before them: the transaction is rolled back and ErrGroupFull returned.
// Otherwise ahead is told each one's rows inside the transaction, after
// its last delete: its error rolls the transaction back and is returned
// as it is.
//
// Each is bounded to limit rows (Delete's statement by key, on Postgres
// with the selection tested again on each row: a group has no next batch
// for a row updated meanwhile, and its parents' deletes would go before it): nothing is counted
// before a group, so a subject of millions of rows in one pass comes here
// first, and its delete stops at limit rows before the transaction is taken
// back, instead of deleting every row in vain (a plain DELETE, which reads
// a small subject's rows once instead of twice, 0.30 against 0.45 ms for
// 200 messages on Postgres, ran into the batch timeout on such a subject at
// every attempt).
//
// The statements are built before the transaction begins, since building
// one may read the store's catalog through the pool.
func (s *Store) DeleteEach(ctx context.Context, sels []connector.Selection, limit int, ahead func(ns []int64) error) ([]int64, error) {
	qs := make([]*query, len(sels))
	for i, sel := range sels {
		if err := bounded(sel); err != nil {
			return nil, err
		}
		if err := s.checkKey(ctx, sel.Collection); err != nil {
			return nil, err
		}
		var err error
		if qs[i], err = s.batchDelete(ctx, sel, limit, false, s.driver == registry.DriverPostgres); err != nil {
			return nil, err
		}
	}
	out := make([]int64, len(qs))
	failed := ""
	var told error
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for i, q := range qs {
			res := tx.Exec(q.sql.String(), q.args...)
			if res.Error != nil {
				failed = sels[i].Collection.Key
				return res.Error
			}
			if out[i] = res.RowsAffected; out[i] >= int64(limit) {
				return connector.ErrGroupFull
			}
		}
		if ahead != nil {
			told = ahead(out)
		}
		return told
	})
	if errors.Is(err, connector.ErrGroupFull) {
		return nil, err
	}
	if told != nil {
		return nil, told
	}
	if err != nil {
		return nil, s.fail(ctx, "delete", cmp.Or(failed, sels[0].Collection.Key), err)
	}
	return out, nil
}

// window returns the key of the last of the first limit rows sel selects,
// in primary-key order, and how many they are (0 when none), reading one
// row:
//
//	SELECT pk, count(*) OVER () FROM (SELECT pk FROM t WHERE … ORDER BY pk LIMIT n) AS lethe_window
//	ORDER BY pk DESC LIMIT 1
func (s *Store) window(ctx context.Context, sel connector.Selection, limit int) (string, int64, error) {
	q, err := s.selecting(ctx, sel)
	if err != nil {
		return "", 0, err
	}
	pk := sel.Collection.PrimaryKey
	q.write("SELECT ", q.orderBy(pk), ", count(*) OVER () FROM (SELECT ", q.orderBy(pk), " FROM ", q.ident(sel.Collection.Table), " WHERE ")
	if err := q.where(sel); err != nil {
		return "", 0, err
	}
	desc := make([]string, len(pk))
	for i, col := range pk {
		desc[i] = q.col(col) + " DESC"
	}
	q.write(" ORDER BY ", q.orderBy(pk), " LIMIT ", strconv.Itoa(limit), ") AS lethe_window ORDER BY ", strings.Join(desc, ", "), " LIMIT 1")
	rows, err := s.scan(ctx, q, len(pk), 1)
	if err != nil {
		return "", 0, s.fail(ctx, "read", sel.Collection.Key, err)
	}
	if len(rows) == 0 || rows[0].Values[0] == nil {
		return "", 0, nil
	}
	n, err := strconv.ParseInt(*rows[0].Values[0], 10, 64)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: the batch count %q: %w", sel.Collection.Key, *rows[0].Values[0], err)
	}
	return rows[0].Key, n, nil
}

// Anonymize rewrites up to limit of sel's rows after *after in primary-key
// order, in one transaction: the rows are read (locked where the dialect
// can), constant columns are set with one UPDATE … WHERE pk IN (…), and
// rewritten columns with one UPDATE per row by primary key. ahead, when set,
// is told of the rows between the read and the first UPDATE, inside the
// transaction: its error rolls the batch back and is returned as it is.
func (s *Store) Anonymize(ctx context.Context, sel connector.Selection, a connector.Anonymization, after *string, limit int, ahead connector.Ahead) (int64, string, error) {
	n, last, _, err := s.anonymize(ctx, retention.Tally{Sel: sel}, a, after, limit, ahead)
	return n, last, err
}

// anonymize is Anonymize of t.Sel's rows that also returns, per row
// rewritten, its tenant as t.By or t.Via read it (nil without them).
func (s *Store) anonymize(ctx context.Context, t retention.Tally, a connector.Anonymization, after *string, limit int, ahead connector.Ahead) (int64, string, []*string, error) {
	sel := t.Sel
	c := sel.Collection
	if err := bounded(sel); err != nil {
		return 0, "", nil, err
	}
	if err := s.checkKey(ctx, c); err != nil {
		return 0, "", nil, err
	}
	q, err := s.selecting(ctx, sel)
	if err != nil {
		return 0, "", nil, err
	}
	q.write("SELECT ", q.orderBy(c.PrimaryKey))
	for _, col := range a.Rewrite {
		q.write(", ", q.col(col))
	}
	switch {
	case t.By != "":
		q.write(", ", q.col(t.By))
	case len(t.Via) > 0:
		q.write(", ", s.tenantExpr(q, q.ident(c.Table), t.Via, 1))
	default:
		q.write(", NULL")
	}
	q.write(" FROM ", q.ident(c.Table), " WHERE ")
	if err := q.where(sel); err != nil {
		return 0, "", nil, err
	}
	if err := q.after(c.PrimaryKey, after); err != nil {
		return 0, "", nil, err
	}
	q.write(" ORDER BY ", q.orderBy(c.PrimaryKey), " LIMIT ", strconv.Itoa(limit))
	if s.driver != registry.DriverSQLite {
		q.write(" FOR UPDATE")
	}
	var n int64
	var last string
	var tenants []*string
	var aheadErr error
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		txs := &Store{name: s.name, driver: s.driver, db: tx, folds: s.folds}
		rows, err := txs.scan(ctx, q, len(c.PrimaryKey), len(a.Rewrite)+1)
		if err != nil || len(rows) == 0 {
			return err
		}
		n, last = int64(len(rows)), rows[len(rows)-1].Key
		tenants = make([]*string, len(rows))
		for i, r := range rows {
			tenants[i] = r.Values[len(a.Rewrite)]
		}
		if ahead != nil {
			if aheadErr = ahead(last, n); aheadErr != nil {
				return aheadErr
			}
		}
		if len(a.Rewrite) == 0 {
			keys := make([]string, len(rows))
			for i, r := range rows {
				keys[i] = r.Key
			}
			return txs.update(c, a.Set, nil, nil, keys)
		}
		for _, r := range rows {
			vals := make([]*string, len(a.Rewrite))
			for i, col := range a.Rewrite {
				if vals[i], err = a.Edit(col, r.Values[i]); err != nil {
					return err
				}
			}
			if err := txs.update(c, a.Set, a.Rewrite, vals, []string{r.Key}); err != nil {
				return err
			}
		}
		return nil
	})
	if aheadErr != nil {
		return 0, "", nil, aheadErr
	}
	if err != nil {
		return 0, "", nil, s.fail(ctx, "anonymise", c.Key, err)
	}
	return n, last, tenants, nil
}

// update runs "UPDATE t SET col = ?, … WHERE key IN (…)" on the rows with
// the given keys, for the constant columns set and the per-row columns cols
// with values vals (nil: NULL).
func (s *Store) update(c *registry.Collection, set map[string]*string, cols []string, vals []*string, keys []string) error {
	q := s.newQuery()
	q.write("UPDATE ", q.ident(c.Table), " SET ")
	names := make([]string, 0, len(set))
	for col := range set {
		names = append(names, col)
	}
	sort.Strings(names)
	first := true
	assign := func(col string, v *string) {
		if !first {
			q.write(", ")
		}
		first = false
		q.write(q.col(col), " = ")
		if v == nil {
			q.write("NULL")
		} else {
			q.arg(*v)
		}
	}
	for _, col := range names {
		assign(col, set[col])
	}
	for i, col := range cols {
		assign(col, vals[i])
	}
	q.write(" WHERE ")
	if err := q.in(c.PrimaryKey, keys); err != nil {
		return err
	}
	return s.db.Exec(q.sql.String(), q.args...).Error
}
