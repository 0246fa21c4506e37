package connector

import (
	"errors"

	"github.com/lethe-privacy/lethe/dsr"
)

// unavailableError is EUNAVAILABLE with the driver's error kept for logs.
type unavailableError struct {
	coded *dsr.Error
	cause error
}

func (e *unavailableError) Error() string   { return e.coded.Message + ": " + e.cause.Error() }
func (e *unavailableError) Unwrap() []error { return []error{e.coded, e.cause} }

// Unavailable returns the error of a store that cannot be reached: a
// *dsr.Error with code dsr.EUNAVAILABLE saying "store <name> is
// unreachable" (what callers and clients see), wrapping the driver's
// error cause for the logs.
func Unavailable(store string, cause error) error {
	return &unavailableError{coded: dsr.Errorf(dsr.EUNAVAILABLE, "store %s is unreachable", store), cause: cause}
}

// CloseAll closes every store of m and joins their errors.
func CloseAll[S interface{ Close() error }](m map[string]S) error {
	var errs []error
	for _, s := range m {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}
