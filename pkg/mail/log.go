package mail

import (
	"context"
	"log/slog"
	"strings"
)

// Log is the Mailer used without LETHE_SMTP_URL: it writes each message to
// the log. The address is always masked; the secret is masked unless
// ShowSecrets is set, which only the demo does.
type Log struct {
	Logger      *slog.Logger
	ShowSecrets bool
}

// Send implements Mailer; it never fails.
func (l *Log) Send(_ context.Context, m Message) error {
	body := m.Body
	if m.Secret != "" && !l.ShowSecrets {
		body = strings.ReplaceAll(body, m.Secret, strings.Repeat("*", min(len(m.Secret), 8)))
	}
	l.Logger.Info("mail not sent (no LETHE_SMTP_URL): logged instead", "to", MaskEmail(m.To), "subject", m.Subject, "body", body)
	return nil
}
