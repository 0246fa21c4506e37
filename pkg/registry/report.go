package registry

import "strings"

// How report.html shows a collection (Collection.Report.Show).
const (
	ShowAccount       = "account"       // the person's account: each field with its label
	ShowConversations = "conversations" // each row a conversation, its messages below it
	ShowMessages      = "messages"      // each row a message of a conversation
	ShowFiles         = "files"         // each row an uploaded file, linked into files/
)

// fileReport is a collection's report hint as written.
type fileReport struct {
	Show         string `yaml:"show"`
	Title        string `yaml:"title,omitempty"`
	Time         string `yaml:"time,omitempty"`
	Conversation string `yaml:"conversation,omitempty"`
	Author       string `yaml:"author,omitempty"`
	Text         string `yaml:"text,omitempty"`
	Messages     string `yaml:"messages,omitempty"`
	Name         string `yaml:"name,omitempty"`
}

// Report says how report.html shows a collection's rows to the person
// they are about, as their own data in readable form rather than as a
// table: a hint of the registry, since only the application knows that a
// table holds chats. Fields are written as categories name them: a
// column, or a column and a path inside its JSON document
// ("body.parts[*].text").
type Report struct {
	Show string // ShowAccount, ShowConversations, ShowMessages or ShowFiles
	// Title (conversations) is the field holding a conversation's title.
	Title *Field
	// Time dates each conversation or message.
	Time *Field
	// Conversation (messages) is the reference column to the collection
	// of the conversations.
	Conversation string
	// Author and Text (messages) say who wrote a message, and what.
	Author, Text *Field
	// Messages (conversations that hold their messages inside a JSON
	// document, as Open WebUI's chat does) is the path of the array or map
	// of messages; Author, Text and Time are then paths inside each.
	Messages *Field
	// Name (files) is the field holding the file's name as uploaded.
	Name *Field
}

// buildReport checks a collection's report hint. Fields must be columns
// (or JSON paths of declared JSON columns); a messages collection must
// reference a conversations collection (checked in checkReports, once
// every collection is built).
func buildReport(p *problems, at []string, c *Collection, fr *fileReport) {
	if fr == nil {
		return
	}
	at = append(at, "report")
	r := &Report{Show: fr.Show, Conversation: fr.Conversation}
	switch fr.Show {
	case ShowAccount, ShowConversations, ShowMessages, ShowFiles:
	default:
		p.add(append(at, "show"), "unknown %q: use account, conversations, messages or files", fr.Show)
		return
	}
	inner := fr.Show == ShowConversations && fr.Messages != ""
	field := func(name, raw string, inside bool) *Field {
		if raw == "" {
			return nil
		}
		f, err := reportField(c, raw, inside)
		if err != "" {
			p.add(append(at, name), "%s", err)
		}
		return f
	}
	r.Title, r.Name = field("title", fr.Title, false), field("name", fr.Name, false)
	r.Messages = field("messages", fr.Messages, false)
	r.Time = field("time", fr.Time, inner)
	r.Author, r.Text = field("author", fr.Author, inner), field("text", fr.Text, inner)
	if fr.Show == ShowMessages && (fr.Conversation == "" || fr.Text == "") {
		p.add(at, "a messages collection names its conversation (the reference column) and its text")
	}
	if inner && fr.Text == "" {
		p.add(append(at, "text"), "required with messages: the path of each message's text inside it")
	}
	c.Report = r
}

// reportField parses raw as a column of c, or a column and a path in its
// JSON document; inside, as a path inside each message of a document.
func reportField(c *Collection, raw string, inside bool) (*Field, string) {
	if inside {
		path, err := ParsePath(raw)
		if err != nil {
			return nil, err.Error()
		}
		return &Field{Path: path}, ""
	}
	i := strings.IndexAny(raw, ".[")
	if i < 0 {
		return &Field{Column: raw}, ""
	}
	if _, ok := c.JSON[raw[:i]]; !ok {
		return nil, "\"" + raw[:i] + "\" is not a JSON column: declare it under json, or name a column"
	}
	path, err := ParsePath(strings.TrimPrefix(raw[i:], "."))
	if err != nil {
		return nil, err.Error()
	}
	return &Field{Column: raw[:i], Path: path}, ""
}

// checkReports checks that each messages collection references a
// conversations collection through its conversation column.
func checkReports(p *problems, r *Registry) {
	for _, key := range sortedKeys(r.Collections) {
		c := r.Collections[key]
		if c.Report == nil || c.Report.Show != ShowMessages || c.Report.Conversation == "" {
			continue
		}
		ok := false
		for _, ref := range c.References {
			t := r.Collections[ref.Target]
			ok = ok || ref.Column == c.Report.Conversation && t != nil && t.Report != nil && t.Report.Show == ShowConversations
		}
		if !ok {
			p.add([]string{"collections", key, "report", "conversation"},
				"%q must be a reference to a collection shown as conversations (report: {show: conversations})", c.Report.Conversation)
		}
	}
}

// marshalReport writes a report hint back as the file has it.
func marshalReport(r *Report) *fileReport {
	if r == nil {
		return nil
	}
	name := func(f *Field) string {
		if f == nil {
			return ""
		}
		if f.Column == "" {
			return f.Path.Raw
		}
		return f.Name()
	}
	return &fileReport{Show: r.Show, Title: name(r.Title), Time: name(r.Time), Conversation: r.Conversation,
		Author: name(r.Author), Text: name(r.Text), Messages: name(r.Messages), Name: name(r.Name)}
}
