package main

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"gorm.io/gorm/logger"
)

// statements counts the statements Lethe's state store runs through gorm
// (a logger that only counts; transactions' BEGIN and COMMIT are not
// among them), so erasure_many reports round trips per request beside its
// times.
type statements struct {
	n atomic.Int64
	// show, while set, prints each statement to stderr (-show-statements).
	show atomic.Bool
}

func (s *statements) LogMode(logger.LogLevel) logger.Interface { return s }
func (s *statements) Info(context.Context, string, ...any)     {}
func (s *statements) Warn(context.Context, string, ...any)     {}
func (s *statements) Error(context.Context, string, ...any)    {}
func (s *statements) Trace(_ context.Context, begin time.Time, fc func() (string, int64), _ error) {
	s.n.Add(1)
	if s.show.Load() {
		q, _ := fc()
		fmt.Fprintf(os.Stderr, "state %6.2fms %s\n", float64(time.Since(begin).Microseconds())/1000, q)
	}
}
