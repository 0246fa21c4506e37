package connector_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

type closer struct {
	name   string
	closed *[]string
}

func (c closer) Close() error { *c.closed = append(*c.closed, c.name); return nil }

// TestOpenAll: the stores of one kind are opened in name order with the
// address their variable holds, the others left alone; when a variable is
// empty or a store cannot be opened, the error is returned and the stores
// opened before it are closed.
func TestOpenAll(t *testing.T) {
	reg := &registry.Registry{Stores: map[string]*registry.Store{
		"c":     {Kind: registry.KindRedis, AddrEnv: "C_ADDR"},
		"a":     {Kind: registry.KindRedis, AddrEnv: "A_ADDR"},
		"b":     {Kind: registry.KindRedis, AddrEnv: "B_ADDR"},
		"x":     {Kind: registry.KindSQL, DSNEnv: "X_DSN"},
		"files": {Kind: registry.KindBlob, URL: "mem://"},
	}}
	env := map[string]string{"A_ADDR": "a:6379", "C_ADDR": "c:6379"}
	getenv := func(k string) string { return env[k] }
	var opened, closed []string
	open := func(name string, _ *registry.Store, addr string) (closer, error) {
		opened = append(opened, name+"@"+addr)
		return closer{name, &closed}, nil
	}

	_, err := connector.OpenAll[map[string]closer](reg, registry.KindRedis, getenv, open)
	if err == nil || err.Error() != "store b: environment variable B_ADDR is not set" {
		t.Fatalf("error %v; want store b's variable named", err)
	}
	if !slices.Equal(opened, []string{"a@a:6379"}) || !slices.Equal(closed, []string{"a"}) {
		t.Errorf("opened %v, closed %v; want a opened then closed, c never opened", opened, closed)
	}

	env["B_ADDR"] = "b:6379"
	opened, closed = nil, nil
	got, err := connector.OpenAll[map[string]closer](reg, registry.KindRedis, getenv, open)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(opened, []string{"a@a:6379", "b@b:6379", "c@c:6379"}) || len(got) != 3 || len(closed) != 0 {
		t.Errorf("opened %v (%d kept), closed %v; want a, b, c in order, none closed", opened, len(got), closed)
	}
	if err := connector.CloseAll(got); err != nil || len(closed) != 3 {
		t.Errorf("CloseAll: %v, closed %v", err, closed)
	}

	opened = nil
	if _, err := connector.OpenAll[map[string]closer](reg, registry.KindBlob, nil, open); err != nil || !slices.Equal(opened, []string{"files@"}) {
		t.Errorf("blob stores: %v, opened %v; want files opened with no variable read", err, opened)
	}
	unreachable := errors.New("unreachable")
	env["X_DSN"] = "postgres://x"
	_, err = connector.OpenAll[map[string]closer](reg, registry.KindSQL, getenv, func(string, *registry.Store, string) (closer, error) {
		return closer{}, unreachable
	})
	if !errors.Is(err, unreachable) {
		t.Errorf("error %v; want open's error as it is", err)
	}
}
