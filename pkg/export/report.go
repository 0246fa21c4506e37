package export

import (
	_ "embed"
	"fmt"
	"html/template"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/pkg/locale"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

//go:embed report.html.tmpl
var reportSource string

var reportTemplate = template.Must(template.New("report").Parse(reportSource))

// Report is what report.html shows, in the person's language: who holds
// the data, the data itself in readable form, and the facts of GDPR
// Art. 15 in plain words. Everything comes from the registry, the rows
// of this package and the studio's profile.
type Report struct {
	P              *locale.Printer
	Email          string
	RequestID      string
	Created        string
	Expires        string
	Holder         Holder
	Account        []Section
	Conversations  []Conversation
	Files          []FileLink
	Kept           []Holding
	LeftOut        int // messages and fields past maxShown, in data/ only
	Holdings       []Holding
	Purposes       []string
	Categories     []string
	Recipients     []string
	Folders        []Folder
	Refused        int
	SelfServiceURL string
}

// Holder is who holds the data: the studio and its controller.
type Holder struct {
	Studio, Controller, Contact string
	Color, Text                 string // the studio's colours
}

// Section is a titled list of labelled values (the account).
type Section struct {
	Title  string
	Fields []Labelled
}

// Labelled is one value with its label.
type Labelled struct{ Label, Value string }

// Conversation is one chat, its messages in order.
type Conversation struct {
	Title    string
	Started  string
	Messages []Message
}

// Message is one message: who wrote it, when, and what.
type Message struct {
	Author string
	Mine   bool
	When   string
	Text   string
}

// FileLink is an uploaded file and where it is in the package.
type FileLink struct{ Name, Href, When string }

// Holding is one collection as Art. 15 asks to explain it.
type Holding struct {
	What       string // the collection's label
	Categories string // its categories' labels
	Count      string
	Purposes   string
	Kept       string // the retention, as a sentence
	Reason     string // why it is kept after an erasure request, "" if it is not
}

// Folder is one folder (or file) of the package that exists.
type Folder struct{ Name, Description string }

// reportInput is what report.html is built from.
type reportInput struct {
	reg     *registry.Registry
	info    PackageInfo
	rows    map[string]int64
	counts  map[string]int64
	refused int
	view    *view
	written []string
}

// buildReport gathers the report.
func buildReport(in reportInput) *Report {
	p := locale.Shipped().Printer(locale.Shipped().Choose(in.info.Language, "", ""))
	r := &Report{P: p, Email: in.info.Email, RequestID: in.info.RequestID, Created: p.DateTime(in.info.CreatedAt),
		Expires: p.DateTime(in.info.ExpiresAt), Refused: in.refused, LeftOut: in.view.left, SelfServiceURL: in.info.SelfServiceURL}
	r.Holder = holderOf(p, in.info)
	r.Account = accountSections(p, in.reg, in.view)
	r.Conversations = conversations(p, r.Holder.Studio, in.info.Email, in.view)
	r.Files = fileLinks(p, in.view, in.written)
	cats := map[string]bool{}
	for _, c := range in.reg.Order() {
		n, ok := in.rows[c.Key]
		if !ok || n == 0 {
			continue
		}
		h := holding(p, in.reg, c, n)
		r.Holdings = append(r.Holdings, h)
		if showOf(c) == "" {
			r.Kept = append(r.Kept, h)
		}
		for _, cat := range c.Categories {
			cats[categoryLabel(p, in.reg, cat)] = true
		}
		for _, cat := range c.PathCategories {
			cats[categoryLabel(p, in.reg, cat)] = true
		}
	}
	r.Categories = sortedNames(cats)
	r.Purposes = purposes(in.reg, in.rows)
	r.Recipients = recipients(p, in.reg)
	r.Folders = folders(p, in)
	return r
}

func holderOf(p *locale.Printer, info PackageInfo) Holder {
	h := Holder{Studio: p.T("mail.this_service")}
	h.Color, h.Text = info.Studio.Colors()
	if st := info.Studio; st != nil {
		h.Studio, h.Controller, h.Contact = st.DisplayName, st.LegalName, st.PrivacyContact
	}
	return h
}

func accountSections(p *locale.Printer, reg *registry.Registry, v *view) []Section {
	var out []Section
	for _, rec := range v.account {
		s := Section{Title: collectionLabel(p, reg, rec.collection)}
		for _, f := range rec.fields {
			s.Fields = append(s.Fields, Labelled{Label: categoryLabel(p, reg, f.category), Value: f.value})
		}
		out = append(out, s)
	}
	return out
}

// conversations writes the chats: the person's own messages as "You",
// the others by their author (the studio for an assistant).
func conversations(p *locale.Printer, studio, email string, v *view) []Conversation {
	var out []Conversation
	for _, c := range v.conversations() {
		conv := Conversation{Title: c.title, Started: when(p, c.started)}
		if conv.Title == "" {
			conv.Title = p.T("report.chat.untitled")
		}
		for _, m := range c.messages {
			mine := m.author == "user" || m.author == "human" || strings.EqualFold(m.author, email)
			author := m.author
			switch {
			case mine:
				author = p.T("report.chat.you")
			case m.author == "assistant" || m.author == "bot" || m.author == "ai":
				author = studio
			}
			conv.Messages = append(conv.Messages, Message{Author: author, Mine: mine, When: when(p, m.at), Text: m.text})
		}
		out = append(out, conv)
	}
	return out
}

func when(p *locale.Printer, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return p.DateTime(t)
}

// fileLinks lists the files copied into files/, by the names they were
// uploaded under where the registry says which column holds it.
func fileLinks(p *locale.Printer, v *view, written []string) []FileLink {
	out := make([]FileLink, 0, len(written))
	for _, name := range written {
		key := strings.TrimPrefix(name, "files/")
		shown := v.files[key]
		if shown == "" {
			shown = path.Base(key)
		}
		href := (&url.URL{Path: name}).EscapedPath()
		out = append(out, FileLink{Name: shown, Href: href, When: when(p, v.fileWhen[key])})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func holding(p *locale.Printer, reg *registry.Registry, c *registry.Collection, n int64) Holding {
	h := Holding{What: collectionLabel(p, reg, c), Count: p.Number(n), Kept: retention(p, c)}
	var cats []string
	seen := map[string]bool{}
	for _, col := range sortedNames(c.Categories) {
		if l := categoryLabel(p, reg, c.Categories[col]); !seen[l] {
			seen[l] = true
			cats = append(cats, l)
		}
	}
	h.Categories = strings.Join(cats, ", ")
	var why []string
	for _, pu := range c.Purposes {
		why = append(why, describe(reg.Purposes, pu))
	}
	h.Purposes = strings.Join(why, "; ")
	if c.Erasure.Action == registry.ActionKeep {
		h.Reason = c.Erasure.KeepReason
	}
	return h
}

func describe(m map[string]string, key string) string {
	if d := m[key]; d != "" {
		return d
	}
	return key
}

// retention says in a sentence how long a collection's rows are kept.
func retention(p *locale.Printer, c *registry.Collection) string {
	ret := c.Retention
	switch {
	case ret != nil && ret.Never:
		return p.T("report.kept.until_asked")
	case ret != nil:
		id := "report.kept.deleted_after"
		if ret.Action == registry.ActionAnonymize {
			id = "report.kept.anonymised_after"
		}
		s := p.T(id, "Period", period(p, ret.Window))
		if ret.RedactAfter > 0 {
			s += " " + p.T("report.kept.redacted_after", "Period", period(p, ret.RedactAfter))
		}
		return s
	case c.Erasure.Action == registry.ActionKeep:
		return p.T("report.kept.by_law")
	}
	return p.T("report.kept.while_account")
}

// period writes a window in words: "30 days", "2 weeks".
func period(p *locale.Printer, d time.Duration) string {
	for _, u := range []struct {
		id string
		d  time.Duration
	}{{"report.period.weeks", 7 * 24 * time.Hour}, {"report.period.days", 24 * time.Hour},
		{"report.period.hours", time.Hour}, {"report.period.minutes", time.Minute}} {
		if d%u.d == 0 {
			return p.N(u.id, int64(d/u.d))
		}
	}
	return d.String()
}

// collectionLabel names a collection: the registry's label, else what its
// report hint shows, else its categories.
func collectionLabel(p *locale.Printer, reg *registry.Registry, c *registry.Collection) string {
	if c.Label != "" {
		return c.Label
	}
	if c.Report != nil {
		return p.T("report.label." + c.Report.Show)
	}
	if showOf(c) == registry.ShowAccount {
		return p.T("report.label.account")
	}
	var cats []string
	for _, col := range sortedNames(c.Categories) {
		cats = append(cats, categoryLabel(p, reg, c.Categories[col]))
	}
	if len(cats) == 0 {
		return p.T("report.label.records", "Name", c.Name)
	}
	return strings.Join(dedupe(cats), ", ")
}

// categoryLabel names a data category: the registry's label, else
// Lethe's label of it or of the nearest category above it
// (user.content.chat.title → user.content.chat), else its last words.
func categoryLabel(p *locale.Printer, reg *registry.Registry, cat string) string {
	if l := reg.Labels[cat]; l != "" {
		return l
	}
	for c := cat; c != ""; {
		if p.Has("category." + c) {
			return p.T("category." + c)
		}
		i := strings.LastIndexByte(c, '.')
		if i < 0 {
			break
		}
		c = c[:i]
	}
	return strings.ReplaceAll(strings.ReplaceAll(strings.TrimPrefix(cat, "user."), ".", " "), "_", " ")
}

// purposes are the descriptions of the purposes of the collections that
// hold something of the person.
func purposes(reg *registry.Registry, rows map[string]int64) []string {
	seen := map[string]bool{}
	for key, n := range rows {
		if c := reg.Collections[key]; c != nil && n > 0 {
			for _, pu := range c.Purposes {
				seen[describe(reg.Purposes, pu)] = true
			}
		}
	}
	return sortedNames(seen)
}

// recipients describes who receives the data: processors by what they
// do (and where), and the recipients the registry declares.
func recipients(p *locale.Printer, reg *registry.Registry) []string {
	var out []string
	for _, name := range sortedNames(reg.Stores) {
		st := reg.Stores[name]
		if st.Kind != registry.KindProcessor {
			continue
		}
		host := ""
		if u, err := url.Parse(st.Webhook + st.OpenDSR); err == nil {
			host = u.Host
		}
		desc := reg.Recipients[name]
		if desc == "" {
			desc = p.T("report.recipient.processor")
		}
		out = append(out, p.T("report.recipient.told", "Recipient", desc, "Host", host))
	}
	for _, name := range sortedNames(reg.Recipients) {
		if st := reg.Stores[name]; st == nil || st.Kind != registry.KindProcessor {
			out = append(out, reg.Recipients[name])
		}
	}
	return out
}

// folders describes the parts of the package that exist.
func folders(p *locale.Printer, in reportInput) []Folder {
	out := []Folder{{"report.html", p.T("report.folder.report")}}
	if len(in.rows) > 0 {
		out = append(out, Folder{"data/", p.T("report.folder.data")})
	}
	if len(in.written) > 0 {
		out = append(out, Folder{"files/", p.T("report.folder.files")})
	}
	for k, n := range in.counts {
		if strings.HasSuffix(k, ".keys") && n > 0 {
			out = append(out, Folder{"redis/", p.T("report.folder.redis")})
			break
		}
	}
	if in.counts["mentions"] > 0 {
		out = append(out, Folder{"mentions.json", p.T("report.folder.mentions")})
	}
	return append(out, Folder{"manifest.json", p.T("report.folder.manifest")})
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// report writes report.html.
func (b *builder) report() error {
	rows := map[string]int64{}
	for _, it := range b.a.Plan.Collections {
		rows[it.Store+"."+it.Collection] = it.Count
	}
	rep := buildReport(reportInput{reg: b.a.Registry, info: b.info, rows: rows, counts: b.counts,
		refused: len(b.refused), view: b.view, written: b.written})
	hw, err := b.create("report.html")
	if err != nil {
		return err
	}
	if err := reportTemplate.Execute(hw, rep); err != nil {
		return fmt.Errorf("export: report.html: %w", err)
	}
	b.entries = append(b.entries, hw.entry("report.html"))
	return nil
}
