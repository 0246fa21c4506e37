package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/lethe-privacy/lethe/pkg/export"
	"github.com/lethe-privacy/lethe/pkg/mail"
	"github.com/lethe-privacy/lethe/pkg/queue"
	"github.com/lethe-privacy/lethe/pkg/selfservice"
)

// selfSweepEvery is how often the leader resends failed closing notices,
// cancels requests whose code expired unused and drops old counters.
const selfSweepEvery = 5 * time.Minute

// newSelfService builds end-user self-service over the state store. Mail
// goes through LETHE_SMTP_URL, or to the log (codes shown only in --demo);
// publicURL is the base of emailed links; exports is nil without
// LETHE_EXPORT_KEY (access requests then send no link). Errors: an
// LETHE_SMTP_URL that does not parse, or says ?tls=none outside --demo
// without LETHE_SMTP_INSECURE.
func newSelfService(cfg Config, demo bool, svc *services, exports *export.Service, publicURL string, proxies []*net.IPNet, log *slog.Logger) (*selfservice.Service, error) {
	var mailer mail.Mailer = &mail.Log{Logger: log, ShowSecrets: demo}
	if cfg.SMTPURL != "" {
		s, err := mail.ParseURL(cfg.SMTPURL)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		if s.Plaintext() && !demo && !cfg.SMTPInsecure {
			return nil, fmt.Errorf("%w: LETHE_SMTP_URL says ?tls=none: codes and download links would cross the network in clear; remove it to require TLS, or set LETHE_SMTP_INSECURE=1 (--smtp-insecure) for a relay you trust", errUsage)
		}
		mailer = s
	} else if !demo {
		log.Warn("LETHE_SMTP_URL is not set: end users' codes and links are written to the log (masked) instead of emailed")
	}
	var packages selfservice.Packages
	var records selfservice.ExportRecords
	if exports != nil {
		packages, records = exports, svc.Exports
	}
	return &selfservice.Service{Store: svc.Self, Mail: mailer, Subject: svc.Hasher, PublicURL: publicURL,
		Packages: packages, Exports: records, Limits: selfservice.Limits{TrustedProxies: proxies},
		Studios: svc.Tenants, Now: time.Now, Logger: log}, nil
}

// selfSweep is the periodic job of self-service.
func selfSweep(svc *selfservice.Service) queue.Periodic {
	return queue.Periodic{Name: "self-service-sweep", Every: selfSweepEvery, Run: func(ctx context.Context) error {
		return svc.Sweep(ctx)
	}}
}
