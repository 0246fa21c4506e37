package main

import (
	"context"
	"sync/atomic"
	"time"

	"gorm.io/gorm/logger"
)

// statements counts the statements Lethe's state store runs through gorm
// (a logger that only counts; transactions' BEGIN and COMMIT are not
// among them), so erasure_many reports round trips per request beside its
// times.
type statements struct{ n atomic.Int64 }

func (s *statements) LogMode(logger.LogLevel) logger.Interface { return s }
func (s *statements) Info(context.Context, string, ...any)     {}
func (s *statements) Warn(context.Context, string, ...any)     {}
func (s *statements) Error(context.Context, string, ...any)    {}
func (s *statements) Trace(context.Context, time.Time, func() (string, int64), error) {
	s.n.Add(1)
}
