package datamap

import "strings"

// Item is one entry of the text alternative: a box of the map, what it
// holds, and the arrows that leave it.
type Item struct {
	Title string
	Kind  string
	Lines []string
	// Arrows are the labels of the references and file columns that
	// leave this box.
	Arrows []string
}

// Items returns the map as a list, in the order of the picture's
// columns: the text alternative a page shows with the SVG.
func (m *Map) Items() []Item {
	out := make([]Item, 0, len(m.Nodes))
	for _, n := range m.Nodes {
		it := Item{Title: n.Title, Kind: n.Kind}
		for _, l := range n.Lines {
			it.Lines = append(it.Lines, strings.TrimPrefix(l, "• ")) // a list has its own bullets
		}
		for _, e := range m.Edges {
			if e.From == n {
				it.Arrows = append(it.Arrows, e.Label)
			}
		}
		out = append(out, it)
	}
	return out
}

// String is the item as one line of text.
func (it Item) String() string {
	s := it.Title + " (" + it.Kind + "): " + strings.Join(it.Lines, "; ")
	if len(it.Arrows) > 0 {
		s += "; references: " + strings.Join(it.Arrows, "; ")
	}
	return s
}
