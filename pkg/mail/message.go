package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"strings"
	"time"
)

// Message is one plain-text email.
type Message struct {
	To      string // a normalised address (dsr.NormalizeEmail)
	Subject string
	Body    string
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

// render returns m as an RFC 5322 message from from, quoted-printable.
func render(from string, m Message, now time.Time) ([]byte, error) {
	if strings.ContainsAny(m.To+m.Subject+from, "\r\n") {
		return nil, fmt.Errorf("mail: header holds a line break")
	}
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	domain := from[strings.LastIndexByte(from, '@')+1:]
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@%s>\r\n",
		from, m.To, mime.QEncoding.Encode("utf-8", m.Subject), now.Format(time.RFC1123Z), hex.EncodeToString(id), domain)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(strings.ReplaceAll(m.Body, "\n", "\r\n"))); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
