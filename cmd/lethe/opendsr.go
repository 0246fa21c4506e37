package main

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/lethe-privacy/lethe/pkg/connector/sqlstore"
	"github.com/lethe-privacy/lethe/pkg/opendsr"
	"github.com/lethe-privacy/lethe/pkg/queue"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// opendsrScanEvery is how often status changes are looked for to queue
// OpenDSR callbacks.
const opendsrScanEvery = time.Second

// newOpenDSR builds the OpenDSR processor when LETHE_OPENDSR_KEY is set;
// without it the routes stay mounted and answer 503 saying so. publicURL
// is where controllers reach Lethe: its host is the processor domain.
// Call it after m.App and m.Exports are set. Errors: a key that does not
// load.
func (m *Main) newOpenDSR(cfg Config, svc *services, publicURL string) (*opendsr.Service, error) {
	if cfg.OpenDSRKey == "" {
		m.Logger.Info("LETHE_OPENDSR_KEY is not set: the OpenDSR routes answer 503")
		return nil, nil
	}
	host := "localhost"
	if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	signer, err := opendsr.LoadSigner(cfg.OpenDSRKey, host)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	out := &opendsr.Service{Requests: svc.Requests, Store: &state.OpenDSRStore{DB: m.DB}, Signer: signer,
		Links: svc.Hasher, Audit: svc.Audit, PublicURL: publicURL, Now: time.Now, Logger: m.Logger}
	if m.App != nil {
		out.Resolver = &sqlstore.SHA256Resolver{Registry: m.App.Registry, Stores: m.App.Stores}
	}
	if m.Exports != nil {
		out.Exports = svc.Exports
	}
	return out, nil
}

// opendsrCallbacks is what the queue's callback jobs call; nil when
// OpenDSR is off, which leaves queued callbacks waiting for it.
func (m *Main) opendsrCallbacks() queue.Callbacks {
	if m.OpenDSR == nil {
		return nil
	}
	client := opendsr.NewCallbackClient(m.Config.OpenDSRPrivateCallbacks || m.Demo)
	svc := m.OpenDSR
	return func(ctx context.Context, job opendsr.CallbackJob, retry bool) error {
		return svc.SendCallback(ctx, client, job, retry)
	}
}

// watchOpenDSR scans for status changes until Close.
func (m *Main) watchOpenDSR(svc *opendsr.Service) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	m.stopWatch = func() { cancel(); <-done }
	go func() {
		defer close(done)
		svc.Watch(ctx, opendsrScanEvery, m.Queue.EnqueueCallbacks)
	}()
}
