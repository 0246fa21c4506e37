package selfservice

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"html/template"
	"strings"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/locale"
	"github.com/lethe-privacy/lethe/pkg/mail"
)

//go:embed letter.html.tmpl
var letterSource string

var letterTemplate = template.Must(template.New("letter").Parse(letterSource))

// Studios reads a studio's profile (dsr.TenantService implements it).
type Studios interface {
	Get(ctx context.Context, slug string) (*dsr.Tenant, error)
}

// letter is one mail to a person, in their language, from their studio:
// paragraphs, then what it carries (a code or a link) set apart, then
// more paragraphs, and who holds the data at the foot.
type letter struct {
	P       *locale.Printer
	Studio  *dsr.Tenant // nil for a request of no studio
	Subject string
	Title   string
	Before  []string
	Code    string // the six digits, shown large
	Link    string // the download link, as a button
	After   []string
	Color   string // the band's background and text colours
	Text    string
}

// audience returns the studio of tenant (nil for none, or when it cannot
// be read: the mail then names no studio) and the printer of the person's
// language: lang (a tag or an Accept-Language header) when Lethe has it,
// else the studio's default.
func (s *Service) audience(ctx context.Context, tenant, lang string) (*dsr.Tenant, *locale.Printer) {
	var st *dsr.Tenant
	if tenant != "" && s.Studios != nil {
		if t, err := s.Studios.Get(ctx, tenant); err == nil {
			st = t
		}
	}
	studioLang := ""
	if st != nil {
		studioLang = st.Language
	}
	return st, locale.Shipped().Printer(locale.Shipped().Choose(lang, lang, studioLang))
}

// newLetter starts a letter of studio st in p's language.
func newLetter(p *locale.Printer, st *dsr.Tenant) *letter {
	l := &letter{P: p, Studio: st}
	l.Color, l.Text = st.Colors()
	return l
}

// StudioName is how the letter names the studio: its display name, or
// "this service" without one.
func (l *letter) StudioName() string {
	if l.Studio == nil {
		return l.P.T("mail.this_service")
	}
	return l.Studio.DisplayName
}

// Holder is the sentence at the foot that says who is responsible for
// the data, and where to write; "" without a studio.
func (l *letter) Holder() string {
	st := l.Studio
	if st == nil {
		return ""
	}
	s := l.P.T("page.holder.studio", "Studio", st.DisplayName)
	if st.LegalName != "" {
		s = l.P.T("page.holder.controller", "Controller", st.LegalName, "Studio", st.DisplayName)
	}
	if st.PrivacyContact != "" {
		s += " " + l.P.T("page.holder.contact") + " " + st.PrivacyContact
	}
	return s
}

// message renders the letter to to, as text and as HTML.
func (l *letter) message(to string) (mail.Message, error) {
	var html bytes.Buffer
	if err := letterTemplate.Execute(&html, l); err != nil {
		return mail.Message{}, fmt.Errorf("self-service: mail %q: %w", l.Subject, err)
	}
	secret := l.Code
	if l.Link != "" {
		secret = l.Link
	}
	return mail.Message{To: to, Subject: l.Subject, Body: l.text(), HTML: html.String(), Secret: secret}, nil
}

// text is the plain-text twin of the letter.
func (l *letter) text() string {
	var b strings.Builder
	for _, p := range l.Before {
		b.WriteString(p + "\n\n")
	}
	if l.Code != "" {
		b.WriteString("    " + l.Code + "\n\n")
	}
	if l.Link != "" {
		b.WriteString(l.Link + "\n\n")
	}
	for _, p := range l.After {
		b.WriteString(p + "\n\n")
	}
	if h := l.Holder(); h != "" {
		b.WriteString("-- \n" + h + "\n")
	}
	return b.String()
}
