package ropa_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/demo"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/ropa"
)

func demoRegistry(t *testing.T) *registry.Registry {
	t.Helper()
	reg, err := registry.Parse(demo.Registry("APP_DB", t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func activity(t *testing.T, rec *ropa.Record, purpose string) ropa.Activity {
	t.Helper()
	for _, a := range rec.Activities {
		if a.Purpose == purpose {
			return a
		}
	}
	t.Fatalf("no activity for purpose %q in %+v", purpose, rec.Activities)
	return ropa.Activity{}
}

func collectionsOf(a ropa.Activity) []string {
	var out []string
	for _, h := range a.Collections {
		out = append(out, h.Collection)
	}
	return out
}

// TestDemoRecord checks the record of the demo registry: its two
// purposes, the collections, categories and people of each, the
// recipient and its declared transfer, and each collection's retention.
func TestDemoRecord(t *testing.T) {
	rec := ropa.Build(demoRegistry(t))
	if len(rec.Activities) != 2 {
		t.Fatalf("activities %+v; want service and newsletter", rec.Activities)
	}
	svc := activity(t, rec, "service")
	if got := collectionsOf(svc); !slices.Equal(got, []string{"app.chats", "app.messages", "app.uploads", "app.users"}) {
		t.Errorf("service collections %v", got)
	}
	wantCats := []string{"user.account", "user.contact.email", "user.content.chat", "user.content.file", "user.name"}
	if !slices.Equal(svc.DataCategories, wantCats) {
		t.Errorf("service categories %v; want %v", svc.DataCategories, wantCats)
	}
	if !svc.SubjectsDeclared || !slices.Equal(svc.Subjects, []string{"end users of the studios", "studio owners"}) {
		t.Errorf("service subjects %v (declared %v)", svc.Subjects, svc.SubjectsDeclared)
	}
	if len(svc.Recipients) != 1 || svc.Recipients[0].Name != "llm" || svc.Recipients[0].Kind != "recipient" {
		t.Errorf("recipients %+v; want llm", svc.Recipients)
	}
	if len(svc.Transfers) != 1 || !strings.Contains(svc.Transfers[0].Detail, "standard contractual clauses") {
		t.Errorf("transfers %+v", svc.Transfers)
	}
	ret := map[string]string{}
	for _, h := range svc.Collections {
		ret[h.Collection] = h.Retention
	}
	for col, want := range map[string]string{
		"app.chats":    "deleted 30 days after created_at",
		"app.messages": "deleted 30 days after created_at; personal data in the text replaced with pseudonyms after 7 days",
		"app.uploads":  "deleted 7 days after created_at",
		"app.users":    "no retention rule: kept until the person's erasure",
	} {
		if ret[col] != want {
			t.Errorf("%s retention %q; want %q", col, ret[col], want)
		}
	}
	news := activity(t, rec, "newsletter")
	if got := collectionsOf(news); !slices.Equal(got, []string{"app.newsletter"}) || !slices.Equal(news.DataCategories, []string{"user.contact.email"}) {
		t.Errorf("newsletter %v %v", got, news.DataCategories)
	}
}

// TestOpenWebUIRecord checks the record of the Open WebUI registry, which
// declares no subjects: they are derived from its identity collection and
// said to be undeclared; its channel is anonymised, not deleted.
func TestOpenWebUIRecord(t *testing.T) {
	reg, err := registry.Load("../../deploy/registries/open-webui.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rec := ropa.Build(reg)
	if len(rec.Activities) != 1 {
		t.Fatalf("activities %+v; want service only", rec.Activities)
	}
	a := activity(t, rec, "service")
	if a.SubjectsDeclared || !slices.Equal(a.Subjects, []string{"people identified by their email in webui.user"}) {
		t.Errorf("subjects %v (declared %v)", a.Subjects, a.SubjectsDeclared)
	}
	if len(a.Collections) != len(reg.Collections) {
		t.Errorf("%d collections in the record; the registry has %d", len(a.Collections), len(reg.Collections))
	}
	for _, want := range []string{"user.credentials", "user.content.memory", "user.content.chat"} {
		if !slices.Contains(a.DataCategories, want) {
			t.Errorf("categories %v lack %s", a.DataCategories, want)
		}
	}
	for _, h := range a.Collections {
		switch h.Collection {
		case "webui.chat":
			if h.Retention != "deleted 365 days after created_at; personal data in the text replaced with pseudonyms after 90 days" {
				t.Errorf("webui.chat retention %q", h.Retention)
			}
		case "webui.channel":
			if h.Erasure != "anonymised on erasure" {
				t.Errorf("webui.channel erasure %q", h.Erasure)
			}
		}
	}
	if len(a.Transfers) != 0 || len(a.Recipients) != 0 {
		t.Errorf("transfers %v, recipients %v; the registry declares none", a.Transfers, a.Recipients)
	}
}

// TestFormats renders the demo's record in each format and reads it back:
// CSV has a row per purpose and collection, JSON decodes to the record,
// and the HTML page is well-formed, loads nothing and names every
// collection.
func TestFormats(t *testing.T) {
	rec := ropa.Build(demoRegistry(t))
	var b bytes.Buffer
	if err := ropa.Write(&b, rec, "csv"); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 || rows[0][0] != "purpose" || rows[0][4] != "collection" {
		t.Fatalf("CSV: %d rows, header %v; want the header and 5 rows", len(rows), rows[0])
	}
	if r := rows[1]; r[0] != "newsletter" || r[4] != "app.newsletter" || r[2] != "newsletter subscribers" || !strings.HasPrefix(r[9], "llm: USA") {
		t.Errorf("CSV first row %v", r)
	}

	b.Reset()
	if err := ropa.Write(&b, rec, "json"); err != nil {
		t.Fatal(err)
	}
	var back ropa.Record
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || len(back.Activities) != 2 || back.RegistryVersion != rec.RegistryVersion {
		t.Fatalf("JSON does not read back: %v %+v", err, back)
	}

	b.Reset()
	if err := ropa.Write(&b, rec, "html"); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, col := range []string{"app.users", "app.chats", "app.messages", "app.uploads", "app.newsletter", "Purpose: newsletter"} {
		if !strings.Contains(page, col) {
			t.Errorf("HTML lacks %q", col)
		}
	}
	for _, ext := range []string{"src=", "href=", "@import", "url("} {
		if strings.Contains(page, ext) {
			t.Errorf("HTML loads something (%s)", ext)
		}
	}
	dec := xml.NewDecoder(strings.NewReader(strings.Replace(page, "<!DOCTYPE html>", "", 1)))
	dec.Strict, dec.AutoClose, dec.Entity = true, xml.HTMLAutoClose, xml.HTMLEntity
	for {
		if _, err := dec.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("HTML is not well-formed: %v", err)
		}
	}
	if err := ropa.Write(&b, rec, "pdf"); err == nil || !strings.Contains(err.Error(), "csv, json, html") {
		t.Errorf("unknown format: %v", err)
	}
}
