package main

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"gorm.io/gorm/logger"
)

// statements counts the statements a store runs through gorm and the time
// spent in them (a logger that only counts; transactions' BEGIN and COMMIT
// are not among them), so erasure_many reports round trips per request to
// Lethe's state store and to the application's store beside its times.
type statements struct {
	n atomic.Int64
	// busy is the time spent in them, in nanoseconds.
	busy atomic.Int64
	// show, while set, prints each statement to stderr (-show-statements).
	show atomic.Bool
	// name prefixes each printed statement: which store ran it.
	name string
}

func (s *statements) LogMode(logger.LogLevel) logger.Interface { return s }
func (s *statements) Info(context.Context, string, ...any)     {}
func (s *statements) Warn(context.Context, string, ...any)     {}
func (s *statements) Error(context.Context, string, ...any)    {}
func (s *statements) Trace(_ context.Context, begin time.Time, fc func() (string, int64), _ error) {
	s.n.Add(1)
	s.busy.Add(int64(time.Since(begin)))
	if s.show.Load() {
		q, _ := fc()
		fmt.Fprintf(os.Stderr, "%s %6.2fms %s\n", s.name, float64(time.Since(begin).Microseconds())/1000, q)
	}
}
