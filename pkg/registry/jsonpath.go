package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Path is a path inside a JSON document: keys separated by dots, each
// optionally followed by [*] (every element of an array) or [n] (one
// element), as in "author.email", "parts[*].text" or
// "content.messages[*].email". A key written * is every member: every value
// of an object (a map keyed by ids, as in "history.messages.*.content") or
// every element of an array. A string met before the path's end that holds
// a JSON object or array (a document stored as text inside another, or
// encoded twice) is walked as that document.
type Path struct {
	Raw  string
	segs []pathSeg
}

type pathSeg struct {
	key   string // "" for an index step
	index int    // -1 for [*]
	isIdx bool
	wild  bool // the key *: every member of an object or array
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
		if name == "*" {
			p.segs = append(p.segs, pathSeg{wild: true})
		} else if name != "" {
			p.segs = append(p.segs, pathSeg{key: name})
		}
		if name != "*" && strings.ContainsAny(name, "]*") {
			return nil, fmt.Errorf("path %q: %q is not a key: write * alone for every member of an object, or [*] or [n] after a key", raw, name)
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
// in document order (the members of an object by key). Missing keys and
// indexes are skipped.
func (p *Path) Find(doc any) []any {
	var out []any
	p.walk(doc, 0, func(v any) any { out = append(out, v); return v })
	return out
}

// Rewrite replaces every value at p in doc with f(value), in place where the
// document allows, and returns the new document and how many values were
// replaced. Missing keys are not created. A document held as text inside
// doc is written back as text.
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
		if s.wild {
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				x[k] = p.walk(x[k], i+1, f)
			}
		} else if child, ok := x[s.key]; ok {
			x[s.key] = p.walk(child, i+1, f)
		}
	case []any:
		if !s.isIdx && !s.wild {
			return v
		}
		for j := range x {
			if s.wild || s.index < 0 || s.index == j {
				x[j] = p.walk(x[j], i+1, f)
			}
		}
	case string:
		return p.walkText(x, i, f)
	}
	return v
}

// walkText walks into a string that holds a JSON object or array, and
// returns it encoded again when something inside was replaced.
func (p *Path) walkText(s string, i int, f func(any) any) any {
	t := strings.TrimSpace(s)
	if t == "" || (t[0] != '{' && t[0] != '[') {
		return s
	}
	inner, err := DecodeDocument(t)
	if err != nil {
		return s
	}
	n := 0
	inner = p.walk(inner, i, func(v any) any { n++; return f(v) })
	if n == 0 {
		return s
	}
	out, err := EncodeDocument(inner)
	if err != nil {
		return s
	}
	return out
}

// DecodeDocument decodes a JSON document with numbers kept as json.Number,
// so that a rewrite does not round them.
func DecodeDocument(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("more than one JSON value")
	}
	return doc, nil
}

// EncodeDocument encodes doc compactly, without escaping <, > and &.
func EncodeDocument(doc any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}
