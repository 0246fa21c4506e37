package connector

import (
	"errors"

	"github.com/lethe-privacy/lethe/dsr"
)

// Unavailable returns the error of a store that cannot be reached: a
// *dsr.Error with code dsr.EUNAVAILABLE saying "store <name> is
// unreachable" (what callers and clients see), wrapping the driver's
// error cause for the logs.
func Unavailable(store string, cause error) error {
	return dsr.Errorf(dsr.EUNAVAILABLE, "store %s is unreachable", store).Because(cause)
}

// CloseAll closes every store of m and joins their errors.
func CloseAll[S interface{ Close() error }](m map[string]S) error {
	var errs []error
	for _, s := range m {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}
