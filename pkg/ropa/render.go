package ropa

import (
	"embed"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strings"
)

// Formats are the names Write accepts.
var Formats = []string{"csv", "json", "html"}

// Write renders rec in format ("csv", "json" or "html") to w. An unknown
// format is an error naming the ones there are.
func Write(w io.Writer, rec *Record, format string) error {
	switch format {
	case "csv":
		return WriteCSV(w, rec)
	case "json":
		return WriteJSON(w, rec)
	case "html":
		return WriteHTML(w, rec)
	}
	return fmt.Errorf("ropa: unknown format %q: use %s", format, strings.Join(Formats, ", "))
}

// WriteJSON writes rec as indented JSON.
func WriteJSON(w io.Writer, rec *Record) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rec)
}

// csvHeader names the columns of WriteCSV.
var csvHeader = []string{"purpose", "description", "data_subjects", "data_categories", "collection",
	"collection_categories", "retention", "erasure", "recipients", "transfers"}

// WriteCSV writes one row per purpose and collection, lists joined with
// "; ", so that a spreadsheet filters by purpose or by collection.
func WriteCSV(w io.Writer, rec *Record) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, a := range rec.Activities {
		recipients, transfers := a.recipientNames(), a.transferLines()
		for _, h := range a.Collections {
			row := []string{a.Purpose, a.Description, join(a.Subjects), join(a.DataCategories), h.Collection,
				join(h.Categories), h.Retention, h.Erasure, recipients, transfers}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func (a Activity) recipientNames() string {
	var out []string
	for _, r := range a.Recipients {
		out = append(out, r.Name+" ("+r.Kind+"): "+r.Description)
	}
	if len(out) == 0 {
		return "none declared"
	}
	return join(out)
}

func (a Activity) transferLines() string {
	var out []string
	for _, t := range a.Transfers {
		out = append(out, t.Recipient+": "+t.Detail)
	}
	if len(out) == 0 {
		return "none declared"
	}
	return join(out)
}

func join(list []string) string { return strings.Join(list, "; ") }

//go:embed record.html
var pages embed.FS

var page = template.Must(template.New("record.html").ParseFS(pages, "record.html"))

// WriteHTML writes rec as one self-contained page: styles inline, nothing
// loaded from anywhere, printable on A4.
func WriteHTML(w io.Writer, rec *Record) error {
	return page.Execute(w, rec)
}

// Fragment renders the activities of rec as HTML to embed in another
// page, such as the console's, without the page's own head and styles.
func Fragment(rec *Record) (template.HTML, error) {
	var b strings.Builder
	if err := page.ExecuteTemplate(&b, "activities", rec); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil // rendered by html/template: escaped
}
