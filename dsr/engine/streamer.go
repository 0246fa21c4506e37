package engine

import (
	"context"

	"github.com/lethe-privacy/lethe/pkg/connector"
)

// Streamer reads every column of a selection's rows one row at a time: what
// an access package is written from. The sql connector implements it.
type Streamer interface {
	// Stream calls fn for each row sel selects, in primary-key order, with
	// the table's column names and the row's values (nil for NULL; string,
	// []byte, int64, float64, bool or time.Time otherwise). Values are only
	// valid during the call. fn's error stops the stream and is returned.
	Stream(ctx context.Context, sel connector.Selection, fn func(columns []string, values []any) error) error
}
