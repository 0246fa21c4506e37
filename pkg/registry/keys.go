package registry

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Key is a primary key or unique index of a live table over plain columns
// (expression and partial indexes are not keys: they do not tell rows
// apart over the whole table).
type Key struct {
	Name    string
	Columns []string // in index order
	Primary bool
	// NotNull is true when every column is NOT NULL: a unique index over a
	// nullable column admits many rows with NULL, which it does not tell
	// apart.
	NotNull bool
}

// addresses reports whether k tells every row of its table apart.
func (k Key) addresses() bool { return k.Primary || k.NotNull }

// sameColumns reports whether a and b hold the same columns in any order.
func sameColumns(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x, y := slices.Clone(a), slices.Clone(b)
	sort.Strings(x)
	sort.Strings(y)
	return slices.Equal(x, y)
}

// MatchKey checks a collection's key against a live table's keys: a key
// the registry declares must be the table's primary key or a unique index
// of NOT NULL columns (in any column order); one it does not declare is
// the primary key, or else the unique NOT NULL index with the fewest
// columns. It returns the key to address rows by, or an error saying what
// to change when there is none. The error does not say whether Lethe would
// write: the caller decides whether a table without a key is a problem.
func MatchKey(declared []string, isDeclared bool, table string, keys []Key) ([]string, error) {
	var usable []Key
	for _, k := range keys {
		if k.addresses() && len(k.Columns) > 0 {
			usable = append(usable, k)
		}
	}
	sort.SliceStable(usable, func(i, j int) bool {
		a, b := usable[i], usable[j]
		if a.Primary != b.Primary {
			return a.Primary
		}
		if len(a.Columns) != len(b.Columns) {
			return len(a.Columns) < len(b.Columns)
		}
		return a.Name < b.Name
	})
	if isDeclared {
		for _, k := range usable {
			if sameColumns(k.Columns, declared) {
				return declared, nil
			}
		}
		if len(usable) == 0 {
			return nil, fmt.Errorf("primary_key %s is not unique in table %q, which has no primary key or unique index of NOT NULL columns: add a primary key to the table",
				FormatKey(declared), table)
		}
		return nil, fmt.Errorf("primary_key %s is not a key of table %q (its key is %s): declare that, or remove primary_key to use it",
			FormatKey(declared), table, FormatKey(usable[0].Columns))
	}
	if len(usable) == 0 {
		return nil, fmt.Errorf("table %q has no primary key or unique index of NOT NULL columns, so Lethe cannot tell its rows apart and will not write to it: add a primary key to the table",
			table)
	}
	return usable[0].Columns, nil
}

// FormatKey renders key columns as "(a, b)".
func FormatKey(cols []string) string { return "(" + strings.Join(cols, ", ") + ")" }

// Writes reports whether Lethe may change c's rows: an erasure that
// deletes or anonymises, or a retention rule.
func (c *Collection) Writes() bool {
	return c.Erasure.Action != ActionKeep || c.Retention != nil || c.Responses
}
