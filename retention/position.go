package retention

import (
	"fmt"
	"time"
)

// Position is a value of a cut-off column as the store returned it, kept
// in a run's cursor: a time, the column's text (SQLite keeps times as
// text, compared as such), or an epoch number.
type Position struct {
	Time *time.Time `json:"time,omitempty"`
	Text *string    `json:"text,omitempty"`
	Int  *int64     `json:"int,omitempty"`
	// Page is the next page to scan when the store purges by range.
	Page *int64 `json:"page,omitempty"`
}

// max returns the later of p and the driver value v; p may be nil. Values
// of another kind than p's are ignored.
func (p *Position) max(v any) *Position {
	switch x := v.(type) {
	case time.Time:
		if p == nil || (p.Time != nil && x.After(*p.Time)) {
			t := x.UTC()
			return &Position{Time: &t}
		}
	case string:
		if p == nil || (p.Text != nil && x > *p.Text) {
			return &Position{Text: &x}
		}
	case int64:
		if p == nil || (p.Int != nil && x > *p.Int) {
			return &Position{Int: &x}
		}
	}
	return p
}

// value is the position as a statement parameter.
func (p *Position) value() any {
	switch {
	case p == nil:
		return nil
	case p.Time != nil:
		return *p.Time
	case p.Text != nil:
		return *p.Text
	case p.Int != nil:
		return *p.Int
	}
	return nil
}

// Text renders a value as a database driver returns it (a file key, a
// primary-key column, a tenant) as a string; "" for NULL.
func Text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}
