package dsr

import "context"

// RequestCount is the number of requests of one type in one status.
type RequestCount struct {
	Type   Type
	Status Status
	N      int64
}

// RequestStats reads the request figures that metrics export.
type RequestStats interface {
	// RequestCounts returns the number of requests by type and status.
	RequestCounts(ctx context.Context) ([]RequestCount, error)
	// Overdue returns how many open requests are past their deadline.
	Overdue(ctx context.Context) (int64, error)
}
