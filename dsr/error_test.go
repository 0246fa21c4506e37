package dsr_test

import (
	"errors"
	"testing"

	"github.com/lethe-privacy/lethe/dsr"
)

// TestErrorBecause: the caller sees the coded error, the logs and
// errors.Is see its cause too.
func TestErrorBecause(t *testing.T) {
	cause := errors.New("dial tcp: connection refused")
	err := dsr.Errorf(dsr.EUNAVAILABLE, "store %s is unreachable", "app").Because(cause)
	if dsr.ErrorCode(err) != dsr.EUNAVAILABLE || dsr.ErrorMessage(err) != "store app is unreachable" {
		t.Errorf("caller sees %s %q, want EUNAVAILABLE \"store app is unreachable\"", dsr.ErrorCode(err), dsr.ErrorMessage(err))
	}
	if !errors.Is(err, cause) {
		t.Errorf("errors.Is(%v, cause) = false", err)
	}
	if got, want := err.Error(), "store app is unreachable: dial tcp: connection refused"; got != want {
		t.Errorf("text %q, want %q", got, want)
	}
}
