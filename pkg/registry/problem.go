package registry

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Problem is one thing wrong with a registry: where it is and what to change.
type Problem struct {
	File    string // the registry file, "lethe.yaml" when parsed from bytes
	Line    int    // 0 when unknown
	Path    string // the path in the file, such as "collections.app.messages.references.chat_id"
	Message string // what is wrong and what to change
}

func (p Problem) String() string {
	where := p.File
	if p.Line > 0 {
		where = fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	if p.Path == "" {
		return fmt.Sprintf("%s: %s", where, p.Message)
	}
	return fmt.Sprintf("%s: %s: %s", where, p.Path, p.Message)
}

// ValidationError lists every problem found in a registry. Its message
// starts with "registry: " and has one problem per line.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return "registry: " + strings.Join(lines, "\n  ")
}

// problems collects Problems while a registry is checked, with a line index
// built from the YAML node tree.
type problems struct {
	file  string
	lines map[string]int // path segments joined by "\x00" → line
	list  []Problem
}

func newProblems(file string, root *yaml.Node) *problems {
	p := &problems{file: file, lines: map[string]int{}}
	if root != nil && root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		p.index(root.Content[0], nil)
	}
	return p
}

func (p *problems) index(n *yaml.Node, path []string) {
	p.lines[strings.Join(path, "\x00")] = n.Line
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := append(append([]string(nil), path...), n.Content[i].Value)
			p.lines[strings.Join(k, "\x00")] = n.Content[i].Line
			p.index(n.Content[i+1], k)
			p.lines[strings.Join(k, "\x00")] = n.Content[i].Line
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p.index(c, append(append([]string(nil), path...), fmt.Sprint(i)))
		}
	}
}

// add records a problem at path (segments as in the file) with a message.
func (p *problems) add(path []string, format string, args ...any) {
	line := 0
	for n := len(path); n >= 0 && line == 0; n-- {
		line = p.lines[strings.Join(path[:n], "\x00")]
	}
	p.list = append(p.list, Problem{File: p.file, Line: line, Path: strings.Join(path, "."),
		Message: fmt.Sprintf(format, args...)})
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &ValidationError{Problems: p.list}
}

var (
	yamlLineRE    = regexp.MustCompile(`line (\d+): `)
	yamlUnknownRE = regexp.MustCompile(`field (\S+) not found in type registry\.file(\w+)`)
)

// decodeProblems turns a yaml.v3 decoding error into Problems: one per line
// of a yaml.TypeError, with unknown fields explained.
func decodeProblems(file string, root *yaml.Node, err error) *ValidationError {
	index := newProblems(file, root)
	var msgs []string
	if te, ok := err.(*yaml.TypeError); ok {
		msgs = te.Errors
	} else {
		msgs = []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	ve := &ValidationError{}
	for _, m := range msgs {
		line := 0
		if sm := yamlLineRE.FindStringSubmatch(m); sm != nil {
			fmt.Sscan(sm[1], &line)
			m = strings.Replace(m, sm[0], "", 1)
		}
		key := ""
		if sm := yamlUnknownRE.FindStringSubmatch(m); sm != nil {
			key = sm[1]
			m = fmt.Sprintf("unknown key %q in a %s: check its spelling", sm[1], strings.ToLower(sm[2]))
		}
		ve.Problems = append(ve.Problems, Problem{File: file, Line: line, Path: index.pathAt(line, key), Message: m})
	}
	return ve
}

func sortProblems(list []Problem) {
	sort.SliceStable(list, func(i, j int) bool { return list[i].Path < list[j].Path })
}

// pathAt returns the path of key on line, or else the deepest path that
// starts on line; "" for none.
func (p *problems) pathAt(line int, key string) string {
	best := ""
	for k, l := range p.lines {
		if l != line || line == 0 {
			continue
		}
		if key != "" && strings.HasSuffix(k, "\x00"+key) {
			best = k
			break
		}
		if d, bd := strings.Count(k, "\x00"), strings.Count(best, "\x00"); d > bd || (d == bd && k < best) {
			best = k
		}
	}
	return strings.ReplaceAll(best, "\x00", ".")
}
