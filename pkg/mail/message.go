package mail

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one email: plain text, and optionally its HTML twin.
type Message struct {
	To      string // a normalised address (dsr.NormalizeEmail)
	Subject string
	Body    string
	// HTML, when set, is the same message as an HTML page, sent as the
	// alternative to Body (multipart/alternative); mail clients that show
	// HTML show it, the others Body.
	HTML string
	// Secret is the part of Body that grants access (a code, a link
	// token): Log masks it unless told to show it.
	Secret string
}

// Mailer sends messages.
type Mailer interface {
	// Send delivers m or returns an error that names the step that failed
	// and never the address.
	Send(ctx context.Context, m Message) error
}

// MaskEmail hides an address for a log line: its first character, then
// asterisks, then the domain ("a***@example.com").
func MaskEmail(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 {
		return "***"
	}
	return addr[:1] + "***" + addr[at:]
}

// message returns m as a go-mail message from s's sender: UTF-8 plain text,
// quoted-printable, with a Date from s.Now and a random Message-ID at the
// sender's domain.
// Errors: a header with a line break; an address go-mail refuses (masked).
func (s *SMTP) message(m Message) (*gomail.Msg, error) {
	if strings.ContainsAny(m.To+m.Subject+s.from, "\r\n") {
		return nil, fmt.Errorf("mail: header holds a line break")
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	msg := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP))
	if err := msg.From(s.from); err != nil {
		return nil, fmt.Errorf("mail: sender: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("mail: recipient %s: %w", MaskEmail(m.To), scrub(err, m.To))
	}
	msg.Subject(m.Subject)
	msg.SetDateWithValue(now())
	// The sender's domain, not this host's name, after the random part.
	msg.SetMessageIDWithValue(rand.Text() + "@" + s.from[strings.LastIndexByte(s.from, '@')+1:])
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}
