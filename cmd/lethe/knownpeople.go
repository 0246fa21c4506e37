package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/pflag"

	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/knownpeople"
	"github.com/lethe-privacy/lethe/pkg/queue"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// knownPeopleFlags registers the flags of the studios' dictionaries of
// known people.
func (c *Config) knownPeopleFlags(fs *pflag.FlagSet) {
	fs.IntVar(&c.KnownPeopleMax, "known-people-max", knownpeople.DefaultMax, "the most people kept per studio in its in-memory dictionary of known people, whose names POST /v1/redact and redact_after replace without being told them (0: no dictionary)")
	bindEnv(fs, "known-people-max", "LETHE_KNOWN_PEOPLE_MAX")
	fs.StringVar(&c.KnownPeopleEvery, "known-people-every", "1m", "how often the dictionaries of known people read the rows added since (a Go duration, 1s to 24h); they are rebuilt from scratch every hour, and an erasure drops its person at once on the replica that ran it and at the next walk on the others")
	bindEnv(fs, "known-people-every", "LETHE_KNOWN_PEOPLE_EVERY")
}

// knownPeopleEvery parses KnownPeopleEvery.
func (c *Config) knownPeopleEvery() (time.Duration, error) {
	if c.KnownPeopleEvery == "" {
		return knownpeople.DefaultEvery, nil
	}
	d, err := time.ParseDuration(c.KnownPeopleEvery)
	if err != nil || d < time.Second || d > 24*time.Hour {
		return 0, fmt.Errorf("%w: LETHE_KNOWN_PEOPLE_EVERY (or --known-people-every) %q: give a duration from 1s to 24h, such as 1m", errUsage, c.KnownPeopleEvery)
	}
	return d, nil
}

// knownPeople returns the index of the people app holds, per studio, for
// svc's Redactors; nil without a registry or with the dictionary off.
func knownPeople(cfg Config, app *appStores, svc *services, log *slog.Logger) (*knownpeople.Index, error) {
	if app == nil || svc.Redactors == nil || cfg.KnownPeopleMax <= 0 {
		return nil, nil
	}
	every, err := cfg.knownPeopleEvery()
	if err != nil {
		return nil, err
	}
	readers := map[string]connector.Reader{}
	for name, st := range app.collectionStores() {
		readers[name] = st
	}
	// Erasures other replicas run reach this one's dictionaries at its
	// next walk, read from the state store they share.
	erasures := &state.CompletedErasures{DB: svc.Requests.DB}
	return knownpeople.New(app.Registry, readers, svc.Redactors, svc.Hasher,
		knownpeople.Options{Max: cfg.KnownPeopleMax, Every: every, Erasures: erasures}, log), nil
}

// afterPeople holds a sweep until the dictionaries of known people were
// first filled, so that its redact actions replace their names.
func afterPeople(people *knownpeople.Index, sweep queue.Sweeper) queue.Sweeper {
	if people == nil {
		return sweep
	}
	return func(ctx context.Context, runID string) error {
		select {
		case <-people.Built():
		case <-ctx.Done():
			return ctx.Err()
		}
		return sweep(ctx, runID)
	}
}
