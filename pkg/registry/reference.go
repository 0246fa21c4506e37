package registry

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// Condition restricts a reference to the rows whose Column equals Value,
// as in a polymorphic reference (principal_type = 'user').
type Condition struct {
	Column string
	Value  string
}

// fileReference is a reference as written: "users.id", or
// {ref: users.id, where: {principal_type: user}}.
type fileReference struct {
	Ref   string
	Where map[string]string
}

func (f *fileReference) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		f.Ref = n.Value
		return nil
	case yaml.MappingNode:
		var m struct {
			Ref   string             `yaml:"ref"`
			Where map[string]*string `yaml:"where"`
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i].Value; k != "ref" && k != "where" {
				return fmt.Errorf("line %d: reference: unknown key %q: use users.id or {ref: users.id, where: {column: value}}", n.Content[i].Line, k)
			}
		}
		if err := n.Decode(&m); err != nil {
			return err
		}
		f.Ref = m.Ref
		if m.Where != nil { // {ref: users.id} alone is a plain reference
			f.Where = map[string]string{}
		}
		for col, v := range m.Where {
			if v == nil {
				return fmt.Errorf("line %d: reference: where: %s: null: a condition compares the column with a value, such as {principal_type: user}", n.Line, col)
			}
			f.Where[col] = *v
		}
		return nil
	}
	return fmt.Errorf("line %d: reference: use users.id or {ref: users.id, where: {column: value}}", n.Line)
}

func (f fileReference) MarshalYAML() (any, error) {
	if f.Where == nil {
		return f.Ref, nil
	}
	return map[string]any{"ref": f.Ref, "where": f.Where}, nil
}

// buildReference checks one reference of collection c (in store storeName)
// held by column col. The target is resolved later by checkGraph.
func buildReference(p *problems, at []string, storeName, col string, fr fileReference) (Reference, bool) {
	at = append(at, "references", col)
	parts := strings.Split(fr.Ref, ".")
	switch len(parts) {
	case 2:
		parts = append([]string{storeName}, parts...)
	case 3:
	default:
		p.add(at, "%q is not <store>.<collection>.<column> (or <collection>.<column> in the same store)", fr.Ref)
		return Reference{}, false
	}
	ref := Reference{Column: col, Target: parts[0] + "." + parts[1], TargetColumn: parts[2]}
	if fr.Where != nil && len(fr.Where) == 0 {
		p.add(append(at, "where"), "no condition: give the column and value that say what the reference points at, such as {principal_type: user}, or write the reference as %s", fr.Ref)
		return ref, false
	}
	for _, wc := range sortedKeys(fr.Where) {
		switch {
		case wc == col:
			p.add(append(at, "where", wc), "the condition names the reference column itself: name the column that says what %s points at, such as principal_type", col)
			return ref, false
		case wc == "" || strings.ContainsAny(wc, "?\x00"):
			p.add(append(at, "where"), "%q is not a usable column name", wc)
			return ref, false
		}
		ref.Where = append(ref.Where, Condition{Column: wc, Value: fr.Where[wc]})
	}
	return ref, true
}

// String returns the reference's target as the registry writes it, with
// its conditions: "app.users.id where principal_type = user".
func (r Reference) String() string {
	s := r.Target + "." + r.TargetColumn
	for i, c := range r.Where {
		sep := " and "
		if i == 0 {
			sep = " where "
		}
		s += sep + c.Column + " = " + c.Value
	}
	return s
}

// marshalReference is the canonical form of r.
func marshalReference(r Reference) fileReference {
	f := fileReference{Ref: r.Target + "." + r.TargetColumn}
	if len(r.Where) > 0 {
		f.Where = map[string]string{}
		for _, c := range r.Where {
			f.Where[c.Column] = c.Value
		}
	}
	return f
}

// fileReferences is a collection's references as written, by column.
type fileReferences map[string]fileReference

// Detaches reports whether erasure anonymises ref's column: the rows stay,
// unlinked from the person (a channel others still use). Verification
// counts a row still linked through ref as left over.
func (c *Collection) Detaches(ref Reference) bool {
	return c.Erasure.Action == ActionAnonymize && c.anonymizesColumn(ref.Column)
}
