package datamap_test

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/lethe-privacy/lethe/pkg/datamap"
	"github.com/lethe-privacy/lethe/pkg/demo"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// svgOf draws reg and parses the result as XML, returning its bytes and
// the text of every <title> in it.
func svgOf(t *testing.T, reg *registry.Registry) ([]byte, []string) {
	t.Helper()
	var b bytes.Buffer
	if err := datamap.Build(reg).WriteSVG(&b); err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("LETHE_TEST_SCREENSHOTS"); dir != "" {
		_ = os.WriteFile(dir+"/datamap.svg", b.Bytes(), 0o644)
	}
	dec := xml.NewDecoder(bytes.NewReader(b.Bytes()))
	var titles []string
	var inTitle bool
	root := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("the SVG is not XML: %v\n%s", err, b.String())
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = el.Name.Local
			}
			inTitle = el.Name.Local == "title"
			if el.Name.Local == "script" || el.Name.Local == "image" || el.Name.Local == "foreignObject" {
				t.Errorf("the SVG holds a <%s>", el.Name.Local)
			}
		case xml.CharData:
			if inTitle {
				titles = append(titles, string(el))
			}
		case xml.EndElement:
			inTitle = false
		}
	}
	if root != "svg" {
		t.Fatalf("root element %q; want svg", root)
	}
	return b.Bytes(), titles
}

// TestDemoMap draws the demo registry: the SVG is XML with a title and a
// description, every collection has a box whose title names it with its
// categories, purpose and retention, every reference and file column has
// an arrow titled with it, and the text alternative lists the same.
func TestDemoMap(t *testing.T) {
	reg, err := registry.Parse(demo.Registry("APP_DB", t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	raw, titles := svgOf(t, reg)
	all := strings.Join(titles, "\n")
	if !strings.Contains(string(raw), `role="img"`) || !strings.Contains(all, "Data map of the registry") ||
		!strings.Contains(string(raw), `<desc id="datamap-desc">5 collections, 3 references between them, 1 file columns in 1 blob stores`) {
		t.Errorf("the SVG lacks its role, title or description:\n%s", raw)
	}
	for key, c := range reg.Collections {
		box := titleStarting(titles, key+": ")
		if box == "" {
			t.Errorf("no box titled %s", key)
			continue
		}
		for _, cat := range c.Categories {
			if !strings.Contains(box, "• "+cat) {
				t.Errorf("box of %s lacks category %s: %s", key, cat, box)
			}
		}
		if !strings.Contains(box, "purpose: "+strings.Join(c.Purposes, ", ")) || !strings.Contains(box, "retention: ") {
			t.Errorf("box of %s lacks its purpose or retention: %s", key, box)
		}
		for _, ref := range c.References {
			want := key + "." + ref.Column + " → " + ref.Target + "." + ref.TargetColumn
			if !strings.Contains(all, want) {
				t.Errorf("no arrow titled %q", want)
			}
		}
	}
	if !strings.Contains(all, "files of app.uploads.storage_key in uploads") || titleStarting(titles, "uploads: files (blob store)") == "" {
		t.Errorf("the uploads blob store or its file arrow is missing:\n%s", all)
	}
	if box := titleStarting(titles, "app.chats: "); !strings.Contains(box, "retention: deleted 30 days after created_at") {
		t.Errorf("app.chats retention: %s", box)
	}
	items := datamap.Build(reg).Items()
	if len(items) != len(reg.Collections)+1 {
		t.Errorf("%d items in the text alternative; want %d collections and 1 store", len(items), len(reg.Collections))
	}
	var b bytes.Buffer
	datamap.Build(reg).WriteSVG(&b)
	if !bytes.Equal(b.Bytes(), raw) {
		t.Error("two drawings of the same registry differ: the layout is not deterministic")
	}
}

// TestSideStores draws a registry with Redis keys and a processor: each
// has its box.
func TestSideStores(t *testing.T) {
	reg, err := registry.Parse([]byte(`
stores:
  app:   {kind: sql, driver: sqlite, dsn_env: APP_DB}
  cache: {kind: redis, addr_env: REDIS_ADDR, keys: ["session:{app.users.id}:*"]}
  llm:   {kind: processor, webhook: "https://llm.example/erasure?token=s3cret", secret_env: LLM_SECRET}
  files: {kind: blob, url: "file:///var/lib/app/uploads"}
collections:
  app.users:
    identity: {email: email}
    erasure: delete
`))
	if err != nil {
		t.Fatal(err)
	}
	_, titles := svgOf(t, reg)
	if box := titleStarting(titles, "cache: "); !strings.Contains(box, "session:{app.users.id}:*") {
		t.Errorf("Redis box %q", box)
	}
	if box := titleStarting(titles, "llm: "); !strings.Contains(box, "llm.example") || strings.Contains(box, "s3cret") || strings.Contains(box, "/erasure") {
		t.Errorf("processor box %q: want its host only", box)
	}
	if box := titleStarting(titles, "files: "); !strings.Contains(box, "a folder on Lethe's server") || strings.Contains(box, "/var/lib") {
		t.Errorf("blob box %q: want the kind of storage, not its path", box)
	}
}

func titleStarting(titles []string, prefix string) string {
	for _, s := range titles {
		if strings.HasPrefix(s, prefix) {
			return s
		}
	}
	return ""
}
