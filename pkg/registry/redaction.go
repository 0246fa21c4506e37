package registry

import (
	"slices"
	"sort"
	"strings"
)

// buildRedaction checks a retention rule's redact action:
//
//	retention: {window: 90d, timestamp: created_at, redact_after: 7d, redact: [title, body.parts[*].text]}
//
// redact_after is a window shorter than window; redact lists whole text
// columns or paths inside the collection's JSON columns. Without redact,
// the action rewrites every path declared under json and every other
// column named under categories, except the columns it must not touch
// (primary key, identity, tenant, references, files and the timestamp).
func buildRedaction(p *problems, at []string, c *Collection, fr *fileRetention) {
	ret := c.Retention
	if fr.RedactAfter == "" {
		if len(fr.Redact) > 0 {
			p.add(append(at, "redact"), "redact lists what redact_after rewrites: set redact_after too, such as 7d")
		}
		return
	}
	d, never, err := ParseWindow(fr.RedactAfter)
	switch {
	case err != nil:
		p.add(append(at, "redact_after"), "%v", err)
		return
	case never:
		p.add(append(at, "redact_after"), "never redacts nothing: remove redact_after, or give a window such as 7d")
		return
	case !ret.Never && d >= ret.Window:
		p.add(append(at, "redact_after"), "%s is not shorter than the window %s: rows are deleted before they would be redacted",
			FormatWindow(d, false), FormatWindow(ret.Window, false))
	}
	if ret.Timestamp == "" {
		p.add(append(at, "timestamp"), "required with redact_after: name the column that dates each row, such as created_at")
	}
	ret.RedactAfter = d
	if len(fr.Redact) == 0 {
		ret.Redact = defaultRedaction(c)
		if len(ret.Redact) == 0 {
			p.add(append(at, "redact"), "nothing to redact: list the text columns or JSON paths, such as [body, body.parts[*].text], or declare them under categories or json")
		}
		return
	}
	for i, name := range fr.Redact {
		if f, ok := buildRedactField(p, append(at, "redact", itoa(i)), c, name); ok {
			ret.Redact = append(ret.Redact, f)
		}
	}
	sortFields(ret.Redact)
}

// buildRedactField checks one entry of redact: "col" or "col.path". A
// column declared under json may only be named with a path inside it.
func buildRedactField(p *problems, at []string, c *Collection, name string) (Field, bool) {
	f := Field{Column: strings.TrimSpace(name)}
	if i := strings.IndexAny(f.Column, ".["); i > 0 {
		f.Column = name[:i]
		if _, ok := c.JSON[f.Column]; !ok {
			p.add(at, "%q is not a JSON column: declare its paths under json", f.Column)
			return f, false
		}
		path, err := ParsePath(strings.TrimPrefix(name[i:], "."))
		if err != nil {
			p.add(at, "%v", err)
			return f, false
		}
		f.Path = path
	}
	if f.Column == "" {
		p.add(at, "empty: name a text column or a path inside a JSON column")
		return f, false
	}
	if paths, isJSON := c.JSON[f.Column]; isJSON && f.Path == nil {
		// Redacting a JSON document as text would write pseudonyms where
		// numbers stood, unquoted: the column would no longer hold JSON.
		example := f.Column + ".notes"
		if len(paths) > 0 {
			example = Field{Column: f.Column, Path: paths[0]}.Name()
		}
		p.add(at, "%s is a JSON column: list paths inside it, such as %s", f.Column, example)
		return f, false
	}
	if why := c.untouchable(f.Column); why != "" {
		p.add(at, "%q is %s: redacting it would break the rows; list text columns only", f.Column, why)
		return f, false
	}
	return f, true
}

// defaultRedaction is what the redact action rewrites when redact is not
// given: the declared JSON paths, and the other categorised columns. The
// registry does not know column types: the sweep rewrites only columns
// whose SQL type is text and skips the others (see retention.ColumnTyper).
func defaultRedaction(c *Collection) []Field {
	var out []Field
	for _, col := range sortedKeys(c.JSON) {
		if c.untouchable(col) != "" {
			continue
		}
		for _, path := range c.JSON[col] {
			out = append(out, Field{Column: col, Path: path})
		}
	}
	for _, col := range sortedKeys(c.Categories) {
		if _, isJSON := c.JSON[col]; isJSON || c.untouchable(col) != "" {
			continue
		}
		out = append(out, Field{Column: col})
	}
	sortFields(out)
	return out
}

// untouchable says why the redact action may not rewrite col, or "".
func (c *Collection) untouchable(col string) string {
	switch {
	case slices.Contains(c.PrimaryKey, col):
		return "the primary key"
	case slices.Contains(c.Email, col):
		return "an identity column (access and erasure requests find rows by it)"
	case col == c.Tenant:
		return "the tenant column"
	case c.Retention != nil && col == c.Retention.Timestamp:
		return "the retention timestamp"
	}
	for _, ref := range c.References {
		if ref.Column == col {
			return "a reference"
		}
	}
	if _, ok := c.Files[col]; ok {
		return "a file column"
	}
	return ""
}

func sortFields(fs []Field) {
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].Column != fs[j].Column {
			return fs[i].Column < fs[j].Column
		}
		return fs[i].Name() < fs[j].Name()
	})
}

// Name returns the field as the registry writes it: "col" or "col.path".
func (f Field) Name() string {
	if f.Path == nil {
		return f.Column
	}
	return f.Column + "." + strings.TrimPrefix(f.Path.Raw, ".")
}
