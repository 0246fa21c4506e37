package selfservice

import (
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/locale"
)

// codeLetter carries the verification code of a request of type typ.
func codeLetter(p *locale.Printer, studio *dsr.Tenant, typ dsr.Type, code string) *letter {
	l := newLetter(p, studio)
	what := "mail.code.asked_access"
	if typ == dsr.TypeErasure {
		what = "mail.code.asked_erasure"
	}
	l.Subject, l.Title, l.Code = p.T("mail.code.subject"), p.T("mail.code.title"), code
	l.Before = []string{p.T(what, "Studio", l.StudioName()), p.T("mail.code.your_code")}
	l.After = []string{
		p.T("mail.code.how", "Minutes", p.Number(int64(dsr.CodeTTL/time.Minute)), "Attempts", p.Number(dsr.MaxCodeAttempts)),
		p.T("mail.code.next"),
		p.T("mail.code.not_you"),
	}
	return l
}

// readyLetter carries the download link of a completed access request.
func readyLetter(l *letter, link string, expires time.Time) {
	p := l.P
	l.Subject, l.Title, l.Link = p.T("mail.ready.subject"), p.T("mail.ready.title"), link
	l.Before = []string{p.T("mail.ready.text", "Studio", l.StudioName())}
	l.After = []string{
		p.T("mail.ready.until", "Date", p.DateTime(expires)),
		p.T("mail.ready.report"),
		p.T("mail.ready.not_you"),
	}
}

// erasedLetter confirms a completed erasure.
func erasedLetter(l *letter, r *dsr.Request) {
	p := l.P
	var total int64
	for _, n := range r.Counts {
		total += n
	}
	l.Subject, l.Title = p.T("mail.erased.subject"), p.T("mail.erased.title")
	l.Before = []string{p.T("mail.erased.text", "Studio", l.StudioName()), p.N("mail.erased.count", total)}
	l.After = []string{p.T("mail.erased.reference", "Reference", r.ID), p.T("mail.erased.forgotten")}
}

// endedLetter tells why a request did not complete, and what the person
// can do now.
func endedLetter(l *letter, r *dsr.Request) {
	p := l.P
	l.Subject, l.Title = p.T("mail.ended.subject"), p.T("mail.ended.title")
	what := "mail.ended.access"
	if r.Type == dsr.TypeErasure {
		what = "mail.ended.erasure"
	}
	why := "mail.ended.failed"
	switch r.Status {
	case dsr.StatusCancelled:
		why = "mail.ended.cancelled"
	case dsr.StatusDenied:
		why = "mail.ended.denied"
	}
	l.Before = []string{p.T(what, "Studio", l.StudioName(), "Reference", r.ID), p.T(why)}
	if (r.Status == dsr.StatusDenied || r.Status == dsr.StatusCancelled) && r.Err != nil && r.Err.Message != "" {
		l.Before = append(l.Before, p.T("mail.ended.reason", "Reason", r.Err.Message))
	}
	l.After = []string{p.T("mail.ended.next")}
}
