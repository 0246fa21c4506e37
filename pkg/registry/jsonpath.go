package registry

import (
	"fmt"
	"strconv"
	"strings"
)

// Path is a path inside a JSON document: keys separated by dots, each
// optionally followed by [*] (every element) or [n] (one element), as in
// "author.email", "parts[*].text" or "content.messages[*].email".
type Path struct {
	Raw  string
	segs []pathSeg
}

type pathSeg struct {
	key   string // "" for an index step
	index int    // -1 for [*]
	isIdx bool
}

// ParsePath parses a JSON path. It returns an error naming what is wrong:
// an empty segment, an unclosed bracket or an index that is not a number.
func ParsePath(raw string) (*Path, error) {
	p := &Path{Raw: raw}
	if raw == "" {
		return nil, fmt.Errorf("empty path")
	}
	for _, part := range strings.Split(raw, ".") {
		name, _, _ := strings.Cut(part, "[")
		if name == "" && (part == "" || p.segs != nil) {
			return nil, fmt.Errorf("path %q: empty key: write keys separated by single dots", raw)
		}
		if name != "" {
			p.segs = append(p.segs, pathSeg{key: name})
		}
		if strings.ContainsAny(name, "]*") {
			return nil, fmt.Errorf("path %q: %q is not a key: use [*] or [n] after a key", raw, name)
		}
		for part = part[len(name):]; part != ""; {
			end := strings.IndexByte(part, ']')
			if part[0] != '[' || end < 0 {
				return nil, fmt.Errorf("path %q: unclosed or stray bracket: use [*] or [n]", raw)
			}
			inner := part[1:end]
			switch n, err := strconv.Atoi(inner); {
			case inner == "*":
				p.segs = append(p.segs, pathSeg{isIdx: true, index: -1})
			case err == nil && n >= 0:
				p.segs = append(p.segs, pathSeg{isIdx: true, index: n})
			default:
				return nil, fmt.Errorf("path %q: [%s] is not [*] or a non-negative index", raw, inner)
			}
			part = part[end+1:]
		}
	}
	return p, nil
}

// String returns the path as written.
func (p *Path) String() string { return p.Raw }

// Find returns the values at p in doc (a document decoded by encoding/json),
// in document order. Missing keys and indexes are skipped.
func (p *Path) Find(doc any) []any {
	var out []any
	p.walk(doc, 0, func(v any) any { out = append(out, v); return v })
	return out
}

// Rewrite replaces every value at p in doc with f(value), in place where the
// document allows, and returns the new document and how many values were
// replaced. Missing keys are not created.
func (p *Path) Rewrite(doc any, f func(any) any) (any, int) {
	n := 0
	doc = p.walk(doc, 0, func(v any) any { n++; return f(v) })
	return doc, n
}

func (p *Path) walk(v any, i int, f func(any) any) any {
	if i == len(p.segs) {
		return f(v)
	}
	s := p.segs[i]
	switch x := v.(type) {
	case map[string]any:
		if s.isIdx {
			return v
		}
		if child, ok := x[s.key]; ok {
			x[s.key] = p.walk(child, i+1, f)
		}
	case []any:
		if !s.isIdx {
			return v
		}
		for j := range x {
			if s.index < 0 || s.index == j {
				x[j] = p.walk(x[j], i+1, f)
			}
		}
	}
	return v
}
