package testkit

import (
	"fmt"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/registry"
)

// Registry parses the registry src, its verbs first filled with args as by
// fmt.Sprintf when there are any, and fails t if it does not parse.
func Registry(t testing.TB, src string, args ...any) *registry.Registry {
	t.Helper()
	if len(args) > 0 {
		src = fmt.Sprintf(src, args...)
	}
	reg, err := registry.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return reg
}
