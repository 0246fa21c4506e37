package datamap

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// boxStyle are the fill and stroke of each kind of box; the colours keep
// a contrast of 4.5:1 or more with the black text on them.
var boxStyle = map[string]string{
	"collection": `fill="#eef4fb" stroke="#1d4f91"`,
	"blob":       `fill="#fff4e0" stroke="#8a5300"`,
	"redis":      `fill="#fdecec" stroke="#9b1c1c"`,
	"processor":  `fill="#eef7ee" stroke="#2e6b2e"`,
}

// WriteSVG writes m as a standalone SVG document: role img, a title and a
// description naming what it shows, a title in every box and arrow, and
// no script or outside reference.
func (m *Map) WriteSVG(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="datamap-title datamap-desc" font-family="system-ui, sans-serif" font-size="12">`+"\n",
		m.Width, m.Height, m.Width, m.Height)
	fmt.Fprintf(&b, `<title id="datamap-title">Data map of the registry</title>`+"\n")
	fmt.Fprintf(&b, `<desc id="datamap-desc">%s</desc>`+"\n", esc(m.summary()))
	b.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>` + "\n")
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="14" font-weight="bold">Collections left to right by reference (an arrow points to what a collection references; dashed: its files)</text>`+"\n", margin, margin+4)
	for _, e := range m.Edges {
		m.writeEdge(&b, e)
	}
	for _, n := range m.Nodes {
		writeNode(&b, n)
	}
	b.WriteString("</svg>\n")
	_, err := w.Write(b.Bytes())
	return err
}

// summary is the description: what the map holds, in counts.
func (m *Map) summary() string {
	counts := map[string]int{}
	for _, n := range m.Nodes {
		counts[n.Kind]++
	}
	refs, files := 0, 0
	for _, e := range m.Edges {
		if e.Files {
			files++
		} else {
			refs++
		}
	}
	return fmt.Sprintf("%d collections, %d references between them, %d file columns in %d blob stores, %d Redis stores and %d processors. "+
		"The list that follows the picture gives the same content as text.",
		counts["collection"], refs, files, counts["blob"], counts["redis"], counts["processor"])
}

// writeNode draws one box with its heading and lines.
func writeNode(b *bytes.Buffer, n *Node) {
	fmt.Fprintf(b, `<g id="%s"><title>%s</title>`, n.ID, esc(n.Title+": "+strings.Join(n.Lines, "; ")))
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" rx="6" %s stroke-width="1.5"/>`, n.X, n.Y, n.W, n.H, boxStyle[n.Kind])
	fmt.Fprintf(b, `<text x="%d" y="%d" font-weight="bold" font-size="13">%s</text>`, n.X+10, n.Y+18, esc(clip(n.Title)))
	for i, l := range n.rows {
		fmt.Fprintf(b, `<text x="%d" y="%d">%s</text>`, n.X+10, n.Y+headH+12+i*lineH, esc(clip(l)))
	}
	b.WriteString("</g>\n")
}

// writeEdge draws an arrow from the left side of e.From to the right side
// of e.To (a curve when they are in the same column); files dashed.
func (m *Map) writeEdge(b *bytes.Buffer, e Edge) {
	x1, y1 := e.From.X, e.From.Y+headH/2
	x2, y2 := e.To.X+e.To.W, e.To.Y+headH/2
	if e.Files {
		x1, x2 = e.From.X+e.From.W, e.To.X // to the side column, on the right
	}
	path := fmt.Sprintf("M%d,%d C%d,%d %d,%d %d,%d", x1, y1, (x1+x2)/2, y1, (x1+x2)/2, y2, x2, y2)
	if e.From.X == e.To.X { // same column: loop out to the right
		x1, x2 = e.From.X+e.From.W, e.To.X+e.To.W
		path = fmt.Sprintf("M%d,%d C%d,%d %d,%d %d,%d", x1, y1, x1+colGap/2, y1, x2+colGap/2, y2, x2, y2)
	}
	dash := ""
	if e.Files {
		dash = ` stroke-dasharray="6 4"`
	}
	fmt.Fprintf(b, `<path d="%s" fill="none" stroke="#333" stroke-width="1.4"%s marker-end="url(#arrow)"><title>%s</title></path>`+"\n",
		path, dash, esc(e.Label))
}

// clip shortens s to what fits in a box; the box's title holds it whole.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= maxChars {
		return s
	}
	r := []rune(s)
	return string(r[:maxChars-1]) + "…"
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
