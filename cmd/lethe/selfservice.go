package main

import (
	"context"
	"fmt"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/mail"
	"github.com/lethe-privacy/lethe/pkg/queue"
	"github.com/lethe-privacy/lethe/pkg/selfservice"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// selfSweepEvery is how often the leader resends failed closing notices,
// cancels requests whose code expired unused and drops old counters.
const selfSweepEvery = 5 * time.Minute

// newSelfService builds end-user self-service on the state store. Mail
// goes through LETHE_SMTP_URL, or to the log (codes shown only in --demo).
// The store's Enqueue and the service's PublicURL are set once the queue
// and the listener exist (PublicURL only when Config.publicURL leaves it
// empty). Errors: an LETHE_SMTP_URL, LETHE_PUBLIC_URL or
// LETHE_TRUSTED_PROXIES that does not parse; LETHE_SMTP_URL without
// LETHE_PUBLIC_URL, or with ?tls=none but not LETHE_SMTP_INSECURE=1,
// outside --demo.
func (m *Main) newSelfService(db *state.DB, audit *state.AuditLog, requests *state.RequestService, hasher *dsr.SubjectHasher) (*selfservice.Service, *state.SelfStore, error) {
	var mailer mail.Mailer = &mail.Log{Logger: m.Logger, ShowSecrets: m.Demo}
	if m.Config.SMTPURL != "" {
		s, err := mail.ParseURL(m.Config.SMTPURL)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		if s.Plaintext() && !m.Demo && !m.Config.SMTPInsecure {
			return nil, nil, fmt.Errorf("%w: LETHE_SMTP_URL says ?tls=none: codes and download links would cross the network in clear; remove it to require TLS, or set LETHE_SMTP_INSECURE=1 (--smtp-insecure) for a relay you trust", errUsage)
		}
		mailer = s
	} else if !m.Demo {
		m.Logger.Warn("LETHE_SMTP_URL is not set: end users' codes and links are written to the log (masked) instead of emailed")
	}
	publicURL, err := m.Config.publicURL(m.Demo)
	if err != nil {
		return nil, nil, err
	}
	proxies, err := m.Config.trustedProxies()
	if err != nil {
		return nil, nil, err
	}
	store := &state.SelfStore{DB: db, Audit: audit, Requests: requests}
	svc := &selfservice.Service{Store: store, Mail: mailer, Subject: hasher, PublicURL: publicURL,
		Limits: selfservice.Limits{TrustedProxies: proxies}, Now: time.Now, Logger: m.Logger}
	if m.Exports != nil {
		svc.Packages, svc.Exports = m.Exports, &state.ExportStore{DB: db}
	}
	return svc, store, nil
}

// selfSweep is the periodic job of self-service.
func selfSweep(svc *selfservice.Service) queue.Periodic {
	return queue.Periodic{Name: "self-service-sweep", Every: selfSweepEvery, Run: func(ctx context.Context) error {
		return svc.Sweep(ctx)
	}}
}
