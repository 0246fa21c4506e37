// Package connector is the contract between Lethe's domain and the stores it
// reaches: a Selection of rows of one collection, and what a Store does with
// it (count, read, delete, anonymise). The engine and retention speak it; the
// SQL store implements it.
package connector

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/lethe-privacy/lethe/pkg/registry"
)

// Selection describes a set of rows of one collection: the rows that satisfy
// any of Matches and, when Tenant is set, whose tenant column equals Tenant.
// A Selection with no Matches selects nothing.
type Selection struct {
	Collection *registry.Collection
	Matches    []Match
	Tenant     string
	// All, used by retention only, selects every row instead of Matches.
	// Stores refuse to delete or rewrite with All unless Older is set.
	All bool
	// Older, when set, further restricts to rows older than its cutoff.
	Older *Older
	// Except removes the rows that any of these selections of the same
	// collection select (legal holds, rows an earlier step counted).
	Except []Selection
	// Contains, when set, further restricts to rows whose column holds one
	// of its strings: a prefilter for a scan that an index serves (see
	// Contains). Only a store that reports such an index is given one.
	Contains *Contains
	// Through, when set, further restricts to rows whose primary key (see
	// EncodeKey) is at most this one in primary-key order: the end of a
	// batch told to an Ahead before it was written, written again on
	// resume without reaching past it.
	Through *string
}

// Ahead is told of the batch a Delete or Anonymize selected, before any of
// it is written: the key of its last row in primary-key order and how many
// rows it holds. An error from it stops the call before it writes.
type Ahead func(last string, n int64) error

// Contains selects the rows whose Column holds, compared
// case-insensitively, one of Any (lower-cased). Index names the index
// that serves it, as the store reported it (see sqlstore's MentionIndex):
// "pg_trgm" (Column ILIKE '%…%') or "fulltext" (MATCH … AGAINST, whose
// strings are word prefixes, not substrings: a string the index cannot
// hold selects every row). The caller checks each row it gets: a store
// may select more.
type Contains struct {
	Column string
	Any    []string
	Index  string
}

// Older restricts a Selection to rows whose Column holds a time before
// Before. After, when not nil, is a resume position: rows whose Column is
// before it were handled by an earlier batch. It is a value the store
// returned (a time.Time or the column's text), passed back as it came.
type Older struct {
	Column string
	Before time.Time
	After  any
}

// Match is one way a row can be selected; exactly one of Email, Values and
// Parent is set.
type Match struct {
	// Columns is the matched column; several only for a composite primary
	// key matched against Values.
	Columns []string
	// Email matches rows whose Columns[0] equals it case-insensitively and
	// exactly: wildcards and quotes in it are plain characters.
	Email string
	// Values matches rows whose Columns hold one of these keys (see EncodeKey).
	// A nil or empty Values with no Email and no Parent matches nothing.
	Values []string
	// Parent, with ParentColumn, matches rows whose Columns[0] holds a value
	// of ParentColumn in the rows Parent selects. Parent is in the same store.
	Parent       *Selection
	ParentColumn string
	// Where further restricts the match to rows meeting every condition: a
	// reference's conditions (principal_type = 'user').
	Where []registry.Condition
}

// Row is one row read by Rows: its primary key (see EncodeKey) and the
// requested columns, nil for NULL.
type Row struct {
	Key    string
	Values []*string
}

// Anonymization is how Store.Anonymize rewrites each selected row.
type Anonymization struct {
	// Set holds columns written with the same value in every row (nil: NULL).
	Set map[string]*string
	// Rewrite lists columns read per row and written back as Edit returns them.
	Rewrite []string
	// Edit computes a Rewrite column's new value from its old one.
	Edit func(column string, old *string) (*string, error)
}

// Reader reads a store: all that a dry run needs. Selections passed to a
// store belong to collections of that store.
type Reader interface {
	// Count returns, for each selection, how many rows it selects, in one
	// round trip where the store can.
	Count(ctx context.Context, sels []Selection) ([]int64, error)
	// Values returns up to limit distinct non-NULL values of cols (encoded
	// with EncodeKey) of the rows sel selects, in ascending order, after the
	// value *after when after is not nil.
	Values(ctx context.Context, sel Selection, cols []string, after *string, limit int) ([]string, error)
	// Rows returns up to limit rows sel selects in primary-key order, after
	// the key *after when after is not nil, with the columns cols.
	Rows(ctx context.Context, sel Selection, cols []string, after *string, limit int) ([]Row, error)
}

// Store is the privileged side of a store that only erasure holds.
//
// Errors: a store that cannot be reached returns a *dsr.Error with code
// dsr.EUNAVAILABLE naming the store; other errors name the collection.
type Store interface {
	Reader
	// Delete deletes up to limit rows that sel selects, in one transaction,
	// and returns how many it deleted. With ahead, the rows are the first
	// limit in primary-key order, told to ahead before they are deleted: at
	// no cost where the store reads a batch's keys before deleting it
	// (MongoDB), for one more read where it deletes in one statement (SQL).
	Delete(ctx context.Context, sel Selection, limit int, ahead Ahead) (int64, error)
	// Anonymize rewrites up to limit rows that sel selects after the key
	// *after (primary-key order), in one transaction, and returns how many
	// rows it rewrote and the key of the last one. ahead, when not nil, is
	// told of the rows once read, before they are rewritten.
	Anonymize(ctx context.Context, sel Selection, a Anonymization, after *string, limit int, ahead Ahead) (n int64, last string, err error)
}

// GroupDeleter is a Store that deletes several selections in one
// transaction (a SQL store): a small subject's collections then cost one
// commit, one wait for the store's disk, instead of one each.
type GroupDeleter interface {
	// DeleteEach deletes up to limit rows of each selection, in order (a
	// child's before its parent's), each in its own statement of one
	// transaction, and returns how many each deleted. One that deletes
	// limit rows may have more left, which its parents' deletes must not
	// go before: all are then taken back and ErrGroupFull returned, for
	// Delete one by one.
	// Otherwise ahead, when not nil, is told how many rows each deleted,
	// inside the transaction, before it commits: the transaction commits
	// only if ahead returns nil, and is taken back with ahead's error
	// otherwise (so that what ahead journals is durable before the deletes
	// are). After an error, all of them are deleted or none.
	DeleteEach(ctx context.Context, sels []Selection, limit int, ahead func(ns []int64) error) ([]int64, error)
}

// ErrGroupFull is DeleteEach's error when a selection deleted a whole
// batch: nothing was deleted, and ahead was not told.
var ErrGroupFull = errors.New("a selection of the group deleted a whole batch")

var errBadKey = errors.New("malformed composite key")

// EncodeKey encodes the values of one row's columns as one key: the value
// itself for one column, a JSON array of strings for several.
func EncodeKey(vals []string) string {
	if len(vals) == 1 {
		return vals[0]
	}
	b, _ := json.Marshal(vals)
	return string(b)
}

// DecodeKey is the inverse of EncodeKey for n columns. It returns an error
// when a composite key is not a JSON array of n strings.
func DecodeKey(key string, n int) ([]string, error) {
	if n == 1 {
		return []string{key}, nil
	}
	var vals []string
	if err := json.Unmarshal([]byte(key), &vals); err != nil || len(vals) != n {
		return nil, errBadKey
	}
	return vals, nil
}
