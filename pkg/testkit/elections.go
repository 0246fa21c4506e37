package testkit

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// River's elector writes these debug messages for each bid of a client
// (its "client_id" attribute): the first when it wins, the second when
// another client leads.
const (
	riverGained = "Gained leadership"
	riverDenied = "Leadership bid was unsuccessful"
)

// Elections watches River's own log (queue.Config.RiverLogger) for the
// outcome of each client's leader elections, so that a test of "only the
// leader does it" waits for every replica to have bid instead of sleeping.
type Elections struct {
	mu       sync.Mutex
	outcomes map[string][]bool // client id → won, bid by bid
	changed  chan struct{}
}

// NewElections returns an Elections that has seen no bid.
func NewElections() *Elections {
	return &Elections{outcomes: map[string][]bool{}, changed: make(chan struct{})}
}

// Logger is the River logger to give each replica's queue.
func (e *Elections) Logger() *slog.Logger { return slog.New(electionHandler{e: e}) }

// Decided waits until each of clients has bid at least once and returns
// the clients whose first bid won; it fails t after within.
func (e *Elections) Decided(t testing.TB, within time.Duration, clients ...string) []string {
	t.Helper()
	timeout := time.After(within)
	for {
		e.mu.Lock()
		var won, waiting []string
		for _, c := range clients {
			switch bids := e.outcomes[c]; {
			case len(bids) == 0:
				waiting = append(waiting, c)
			case bids[0]:
				won = append(won, c)
			}
		}
		changed := e.changed
		e.mu.Unlock()
		if len(waiting) == 0 {
			return won
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("no leader election seen within %s for %s", within, strings.Join(waiting, ", "))
		}
	}
}

func (e *Elections) record(client string, won bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.outcomes[client] = append(e.outcomes[client], won)
	close(e.changed)
	e.changed = make(chan struct{})
}

// electionHandler is the slog.Handler behind Elections.Logger: it keeps
// only the elector's outcomes.
type electionHandler struct {
	e     *Elections
	attrs []slog.Attr
}

func (h electionHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h electionHandler) Handle(_ context.Context, r slog.Record) error {
	won := strings.Contains(r.Message, riverGained)
	if !won && !strings.Contains(r.Message, riverDenied) {
		return nil
	}
	client := ""
	for _, a := range h.attrs {
		if a.Key == "client_id" {
			client = a.Value.String()
		}
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "client_id" {
			client = a.Value.String()
		}
		return true
	})
	if client == "" {
		return fmt.Errorf("testkit: River's %q names no client_id", r.Message)
	}
	h.e.record(client, won)
	return nil
}

func (h electionHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return electionHandler{e: h.e, attrs: append(append([]slog.Attr(nil), h.attrs...), a...)}
}

func (h electionHandler) WithGroup(string) slog.Handler { return h }
