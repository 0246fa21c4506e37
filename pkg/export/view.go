package export

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/pkg/registry"
)

// maxShown bounds the messages and account fields report.html shows: the
// rest are in data/, and the report says how many it left out.
const maxShown = 20000

// view keeps, as the rows stream into data/, what report.html shows of
// them in readable form: the account, the conversations with their
// messages in order, and the names of uploaded files.
type view struct {
	reg      *registry.Registry
	account  []accountRecord
	convs    []*conversation
	byKey    map[string]*conversation // "<collection>\x00<key value>"
	files    map[string]string        // file key → name as uploaded
	fileWhen map[string]time.Time
	shown    int
	left     int // messages and fields past maxShown
}

type accountRecord struct {
	collection *registry.Collection
	fields     []accountField
}

type accountField struct{ column, category, value string }

type conversation struct {
	collection *registry.Collection
	title      string
	started    time.Time
	messages   []message
}

type message struct {
	author string
	text   string
	at     time.Time
}

func newView(reg *registry.Registry) *view {
	return &view{reg: reg, byKey: map[string]*conversation{}, files: map[string]string{}, fileWhen: map[string]time.Time{}}
}

// add takes one row of c; rows of collections without a report hint (and
// not found by email) are only counted elsewhere.
func (v *view) add(c *registry.Collection, cols []string, vals []any) {
	row := make(map[string]any, len(cols))
	for i, col := range cols {
		row[col] = vals[i]
	}
	switch showOf(c) {
	case registry.ShowAccount:
		v.addAccount(c, cols, row)
	case registry.ShowConversations:
		v.addConversation(c, row)
	case registry.ShowMessages:
		v.addMessage(c, row)
	case registry.ShowFiles:
		v.addFile(c, row)
	}
}

// showOf is how report.html shows c's rows: its report hint; without
// one, a collection found by email that references nothing and holds
// several categories is the account, and anything else is "" (counted).
func showOf(c *registry.Collection) string {
	switch {
	case c.Report != nil:
		return c.Report.Show
	case c.Identity() && len(c.References) == 0 && len(c.Categories) > 1:
		return registry.ShowAccount
	}
	return ""
}

func (v *view) room() bool {
	if v.shown >= maxShown {
		v.left++
		return false
	}
	v.shown++
	return true
}

func (v *view) addAccount(c *registry.Collection, cols []string, row map[string]any) {
	rec := accountRecord{collection: c}
	for _, col := range cols {
		if c.Categories[col] == "" || row[col] == nil || !v.room() {
			continue
		}
		rec.fields = append(rec.fields, accountField{column: col, category: c.Categories[col], value: text(row[col])})
	}
	v.account = append(v.account, rec)
}

func (v *view) addConversation(c *registry.Collection, row map[string]any) {
	r := c.Report
	conv := &conversation{collection: c, title: fieldText(row, r.Title), started: fieldTime(row, r.Time)}
	for _, col := range referencedColumns(v.reg, c) {
		v.byKey[c.Key+"\x00"+col+"\x00"+text(row[col])] = conv
	}
	if r.Messages != nil { // the messages are inside the row; it starts with the first
		conv.started = time.Time{}
		for _, m := range fieldValues(row, r.Messages) {
			at := asTime(pathValue(m, r.Time))
			if !at.IsZero() && (conv.started.IsZero() || at.Before(conv.started)) {
				conv.started = at
			}
			if v.room() {
				conv.messages = append(conv.messages, message{author: pathText(m, r.Author), text: pathText(m, r.Text), at: at})
			}
		}
	}
	v.convs = append(v.convs, conv)
}

func (v *view) addMessage(c *registry.Collection, row map[string]any) {
	r := c.Report
	for _, ref := range c.References {
		if ref.Column != r.Conversation {
			continue
		}
		conv := v.byKey[ref.Target+"\x00"+ref.TargetColumn+"\x00"+text(row[ref.Column])]
		if conv != nil && v.room() {
			conv.messages = append(conv.messages, message{author: fieldText(row, r.Author), text: fieldText(row, r.Text), at: fieldTime(row, r.Time)})
		}
	}
}

func (v *view) addFile(c *registry.Collection, row map[string]any) {
	for col, store := range c.Files {
		raw := text(row[col])
		if raw == "" {
			continue
		}
		key := strings.TrimPrefix(raw, v.reg.Stores[store].PathPrefix)
		name := fieldText(row, c.Report.Name)
		if name == "" {
			name = key[strings.LastIndexByte(key, '/')+1:]
		}
		v.files[store+"/"+key] = name
		v.fileWhen[store+"/"+key] = fieldTime(row, c.Report.Time)
	}
}

// conversations returns the conversations by the time they started, each
// with its messages in order.
func (v *view) conversations() []*conversation {
	for _, c := range v.convs {
		sort.SliceStable(c.messages, func(i, j int) bool { return c.messages[i].at.Before(c.messages[j].at) })
	}
	out := append([]*conversation(nil), v.convs...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].started.Before(out[j].started) })
	return out
}

// referencedColumns are the columns of c that messages point at.
func referencedColumns(reg *registry.Registry, c *registry.Collection) []string {
	seen := map[string]bool{}
	var out []string
	for _, other := range reg.Collections {
		for _, ref := range other.References {
			if ref.Target == c.Key && !seen[ref.TargetColumn] {
				seen[ref.TargetColumn] = true
				out = append(out, ref.TargetColumn)
			}
		}
	}
	return out
}

// fieldValues returns the values of f in row: the column's, or those at
// its path inside the column's JSON document.
func fieldValues(row map[string]any, f *registry.Field) []any {
	if f == nil {
		return nil
	}
	v := row[f.Column]
	if f.Path == nil {
		return []any{v}
	}
	doc, err := registry.DecodeDocument(text(v))
	if err != nil {
		return nil
	}
	return f.Path.Find(doc)
}

func fieldText(row map[string]any, f *registry.Field) string {
	var parts []string
	for _, v := range fieldValues(row, f) {
		if s := text(v); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "\n\n")
}

func fieldTime(row map[string]any, f *registry.Field) time.Time {
	if vs := fieldValues(row, f); len(vs) > 0 {
		return asTime(vs[0])
	}
	return time.Time{}
}

// pathValue is the first value at f's path inside a message m.
func pathValue(m any, f *registry.Field) any {
	if f == nil {
		return nil
	}
	if vs := f.Path.Find(m); len(vs) > 0 {
		return vs[0]
	}
	return nil
}

func pathText(m any, f *registry.Field) string { return text(pathValue(m, f)) }

// text writes a value as a person reads it.
func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case []byte:
		return string(v)
	case time.Time:
		return v.UTC().Format(time.RFC3339)
	}
	return fmt.Sprint(v)
}

// asTime reads a time as stores and documents hold it: a time, text in
// RFC 3339 or SQL form, or epoch seconds or milliseconds. Zero when it is
// none of these.
func asTime(v any) time.Time {
	switch v := v.(type) {
	case time.Time:
		return v.UTC()
	case int64:
		return epoch(float64(v))
	case float64:
		return epoch(v)
	case nil:
		return time.Time{}
	}
	s := text(v)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return epoch(f)
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// epoch reads seconds, or milliseconds for values past the year 33658.
func epoch(n float64) time.Time {
	if n > 1e12 {
		return time.UnixMilli(int64(n)).UTC()
	}
	return time.Unix(int64(n), 0).UTC()
}
