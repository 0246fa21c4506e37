package locale

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"
)

// Printer writes messages, numbers and dates in one language. Its methods
// can be called from templates: {{.T "page.title" "Studio" .Name}}.
type Printer struct {
	lang   string
	loc    *i18n.Localizer
	num    *message.Printer
	bundle *Bundle
}

// Printer returns the printer of lang, which should be one of Languages
// (Choose gives one); any other falls back to Default.
func (b *Bundle) Printer(lang string) *Printer {
	if !b.Supported(lang) {
		lang = Default.String()
	}
	lang = canonical(lang)
	return &Printer{lang: lang, loc: i18n.NewLocalizer(b.b, lang), num: message.NewPrinter(language.MustParse(lang)), bundle: b}
}

// Lang is the printer's language tag, as the lang attribute of a page.
func (p *Printer) Lang() string { return p.lang }

// T returns message id filled with pairs of names and values
// ("Studio", "Career Coach"). A message this language lacks is ⟦id⟧.
func (p *Printer) T(id string, pairs ...any) string {
	return p.localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data(pairs)})
}

// N returns the plural form of message id for count n (any integer), with
// {{.Count}} written as a number of this language, and the other pairs as
// T's.
func (p *Printer) N(id string, n any, pairs ...any) string {
	count := toInt64(n)
	d := data(pairs)
	d["Count"] = p.Number(count)
	return p.localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: d, PluralCount: count})
}

func toInt64(n any) int64 {
	switch n := n.(type) {
	case int:
		return int64(n)
	case int64:
		return n
	case int32:
		return int64(n)
	case uint64:
		return int64(n)
	}
	return 0
}

// Has reports whether this language has message id, for optional
// messages such as the label of a data category.
func (p *Printer) Has(id string) bool {
	t, err := language.Parse(p.lang)
	return err == nil && p.bundle.ids[t][id]
}

func (p *Printer) localize(lc *i18n.LocalizeConfig) string {
	if !p.Has(lc.MessageID) {
		return "⟦" + lc.MessageID + "⟧"
	}
	s, err := p.loc.Localize(lc)
	var nf *i18n.MessageNotFoundErr
	if err != nil && !errors.As(err, &nf) {
		return "⟦" + lc.MessageID + ": " + err.Error() + "⟧"
	}
	return s
}

// Number writes n with this language's digit grouping: 1,234 or 1.234.
func (p *Printer) Number(n int64) string {
	return p.num.Sprint(number.Decimal(n))
}

// Date writes t's day in this language: "2 March 2026", "2. März 2026".
func (p *Printer) Date(t time.Time) string {
	t = t.UTC()
	return p.T("date", "Day", strconv.Itoa(t.Day()), "Month", p.month(t.Month()), "Year", strconv.Itoa(t.Year()))
}

// DateTime writes t with its time of day in UTC: "2 March 2026, 14:05 UTC".
func (p *Printer) DateTime(t time.Time) string {
	t = t.UTC()
	return p.T("date_time", "Date", p.Date(t), "Time", t.Format("15:04"))
}

func (p *Printer) month(m time.Month) string {
	return p.T("month." + strings.ToLower(m.String()))
}

// data turns name, value pairs into a template's data.
func data(pairs []any) map[string]any {
	d := make(map[string]any, len(pairs)/2+1)
	for i := 0; i+1 < len(pairs); i += 2 {
		d[fmt.Sprint(pairs[i])] = pairs[i+1]
	}
	return d
}
