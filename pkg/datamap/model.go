package datamap

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/pkg/ropa"
)

// Node is one box of the map: a collection or a side store.
type Node struct {
	ID    string // "node-N", unique in the map
	Title string // the collection key or store name
	Kind  string // "collection", "blob", "redis" or "processor"
	Lines []string
	// rows are Lines wrapped to the box's width, as drawn.
	rows []string
	X, Y int
	W, H int
}

// Edge is one arrow: a reference from a collection to the collection it
// points at, or a file column to its blob store.
type Edge struct {
	From, To *Node
	Label    string // "user_id → app.users.id", "files: storage_key"
	Files    bool
}

// Map is the laid-out picture of a registry.
type Map struct {
	Nodes  []*Node
	Edges  []Edge
	Width  int
	Height int
}

// Geometry of the layout, in SVG user units.
const (
	margin   = 24
	boxW     = 270
	colGap   = 70
	rowGap   = 24
	lineH    = 16
	headH    = 26
	padB     = 10
	maxChars = 40 // characters of a line that fit in boxW
)

// Build lays reg out: collections in columns by reference depth (a
// collection stands right of every collection it references), sorted by
// key within a column; side stores (blob, redis, processor) in a last
// column, sorted by name.
func Build(reg *registry.Registry) *Map {
	m := &Map{}
	depth := depths(reg)
	byKey := map[string]*Node{}
	cols := map[int][]*registry.Collection{}
	last := 0
	for _, c := range reg.Order() {
		d := depth[c.Key]
		cols[d] = append(cols[d], c)
		last = max(last, d)
	}
	for d := 0; d <= last; d++ {
		sort.Slice(cols[d], func(i, j int) bool { return cols[d][i].Key < cols[d][j].Key })
		var nodes []*Node
		for _, c := range cols[d] {
			n := &Node{Title: c.Key, Kind: "collection", Lines: collectionLines(c)}
			byKey[c.Key] = n
			nodes = append(nodes, n)
		}
		m.column(d, nodes)
	}
	m.sideStores(reg, last+1, byKey)
	for _, c := range reg.Order() {
		for _, ref := range c.References {
			if to := byKey[ref.Target]; to != nil {
				m.Edges = append(m.Edges, Edge{From: byKey[c.Key], To: to,
					Label: fmt.Sprintf("%s.%s → %s.%s", c.Key, ref.Column, ref.Target, ref.TargetColumn)})
			}
		}
	}
	return m
}

// column places nodes top to bottom in column d and grows the map.
func (m *Map) column(d int, nodes []*Node) {
	y := margin + 30 // below the heading
	for _, n := range nodes {
		n.ID = fmt.Sprintf("node-%d", len(m.Nodes))
		for _, l := range n.Lines {
			n.rows = append(n.rows, wrap(l, maxChars)...)
		}
		n.X, n.Y, n.W, n.H = margin+d*(boxW+colGap), y, boxW, headH+len(n.rows)*lineH+padB
		y += n.H + rowGap
		m.Nodes = append(m.Nodes, n)
		m.Width = max(m.Width, n.X+n.W+margin)
		m.Height = max(m.Height, n.Y+n.H+margin)
	}
}

// sideStores places the blob, redis and processor stores in column d,
// with an arrow from every file column to its blob store.
func (m *Map) sideStores(reg *registry.Registry, d int, byKey map[string]*Node) {
	var nodes []*Node
	stores := map[string]*Node{}
	for _, name := range slices.Sorted(maps.Keys(reg.Stores)) {
		s := reg.Stores[name]
		if s.Kind == registry.KindSQL {
			continue
		}
		n := &Node{Title: name, Kind: s.Kind, Lines: storeLines(s)}
		stores[name] = n
		nodes = append(nodes, n)
	}
	m.column(d, nodes)
	for _, c := range reg.Order() {
		for _, col := range slices.Sorted(maps.Keys(c.Files)) {
			if to := stores[c.Files[col]]; to != nil {
				m.Edges = append(m.Edges, Edge{From: byKey[c.Key], To: to, Files: true,
					Label: fmt.Sprintf("files of %s.%s in %s", c.Key, col, c.Files[col])})
			}
		}
	}
}

// depths returns each collection's column: 0 for one that references
// nothing, else one more than the deepest collection it references.
func depths(reg *registry.Registry) map[string]int {
	out := map[string]int{}
	for _, c := range reg.Order() { // parents first
		d := 0
		for _, ref := range c.References {
			if t, ok := out[ref.Target]; ok && ref.Target != c.Key {
				d = max(d, t+1)
			}
		}
		out[c.Key] = d
	}
	return out
}

// collectionLines are the lines of a collection's box.
func collectionLines(c *registry.Collection) []string {
	var lines []string
	if c.Identity() {
		lines = append(lines, "identity: "+strings.Join(c.Email, ", "))
	}
	cats := map[string]bool{}
	for _, cat := range c.Categories {
		cats[cat] = true
	}
	for _, cat := range c.PathCategories {
		cats[cat] = true
	}
	for _, cat := range slices.Sorted(maps.Keys(cats)) {
		lines = append(lines, "• "+cat)
	}
	purpose := "purpose: none declared"
	if len(c.Purposes) > 0 {
		purpose = "purpose: " + strings.Join(c.Purposes, ", ")
	}
	lines = append(lines, purpose, "retention: "+ropa.Retention(c), "erasure: "+ropa.Erasure(c))
	return lines
}

// storeLines are the lines of a side store's box.
func storeLines(s *registry.Store) []string {
	switch s.Kind {
	case registry.KindBlob:
		return []string{"files (blob store)", where(s.URL)}
	case registry.KindRedis:
		lines := []string{"Redis keys"}
		for _, k := range s.Keys {
			lines = append(lines, "• "+k)
		}
		return lines
	case registry.KindProcessor:
		how := "webhook at " + host(s.Webhook)
		if s.OpenDSR != "" {
			how = "OpenDSR at " + host(s.OpenDSR)
		}
		return []string{"processor, told of erasures", how}
	}
	return []string{s.Kind}
}

// where names a blob store's kind and bucket without its address: a local
// folder's path, an endpoint or credentials in a URL's query are the
// operator's business, not the studio owners' who read the map.
func where(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "storage"
	}
	switch u.Scheme {
	case "file":
		return "a folder on Lethe's server"
	case "mem":
		return "memory (tests)"
	case "s3":
		return "S3 bucket " + u.Host
	case "gs":
		return "Google Cloud Storage bucket " + u.Host
	case "azblob":
		return "Azure Blob Storage container " + u.Host
	}
	return "storage"
}

// host is the host of a processor's URL: its path and query may carry a
// token.
func host(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "its configured address"
	}
	return u.Host
}

// wrap breaks s at spaces into rows of at most width characters (a word
// longer than width is cut); rows after the first are indented.
func wrap(s string, width int) []string {
	var rows []string
	row := ""
	for _, w := range strings.Fields(s) {
		switch {
		case row == "":
			row = w
		case utf8.RuneCountInString(row)+1+utf8.RuneCountInString(w) <= width:
			row += " " + w
		default:
			rows = append(rows, row)
			row = "  " + w
		}
	}
	return append(rows, row)
}
