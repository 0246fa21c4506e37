package registry

import (
	"sort"
	"strings"
)

// buildErasure checks a collection's erasure action and its anonymised
// fields. A field is a column ("name") or a path inside a JSON column
// declared under json ("body.author.email", "body.parts[*].text").
func buildErasure(p *problems, at []string, c *Collection, fe *fileErasure) {
	at = append(at, "erasure")
	if fe == nil {
		p.add(at, "required: use delete, {anonymize: {field: strategy}} or {keep: \"reason\"}")
		return
	}
	switch Action(fe.Action) {
	case ActionDelete:
		c.Erasure = Erasure{Action: ActionDelete}
	case ActionKeep:
		c.Erasure = Erasure{Action: ActionKeep, KeepReason: strings.TrimSpace(fe.Keep)}
		if c.Erasure.KeepReason == "" {
			p.add(append(at, "keep"), "give the legal reason the rows are kept, such as \"legal obligation, GDPR Art. 17(3)(b)\"")
		}
	case ActionAnonymize:
		c.Erasure = Erasure{Action: ActionAnonymize}
		if len(fe.Anonymize) == 0 {
			p.add(append(at, "anonymize"), "no fields: list the fields to rewrite, such as {email: hmac, name: null}")
		}
		for _, field := range sortedKeys(fe.Anonymize) {
			if f, ok := buildField(p, append(at, "anonymize", field), c, field, fe.Anonymize[field]); ok {
				c.Erasure.Fields = append(c.Erasure.Fields, f)
			}
		}
		sort.SliceStable(c.Erasure.Fields, func(i, j int) bool { return c.Erasure.Fields[i].Column < c.Erasure.Fields[j].Column })
		for _, col := range c.Email {
			if !c.anonymizesColumn(col) {
				p.add(append(at, "anonymize"), "the identity column %q keeps the email: anonymise it (hmac, redact, null or fixed:<value>)", col)
			}
		}
		checkIdentitiesAnonymized(p, at, c)
	default:
		p.add(at, "unknown action %q: use delete, {anonymize: {field: strategy}} or {keep: \"reason\"}", fe.Action)
	}
}

func buildField(p *problems, at []string, c *Collection, field, strategy string) (Field, bool) {
	f := Field{Column: field}
	if i := strings.IndexAny(field, ".["); i > 0 {
		f.Column = field[:i]
		raw := strings.TrimPrefix(field[i:], ".")
		if _, ok := c.JSON[f.Column]; !ok {
			p.add(at, "%q is not a JSON column: declare its paths under json", f.Column)
			return f, false
		}
		path, err := ParsePath(raw)
		if err != nil {
			p.add(at, "%v", err)
			return f, false
		}
		f.Path = path
	}
	switch {
	case strategy == "" || strategy == "null":
		f.Strategy = StrategyNull
	case strategy == "redact":
		f.Strategy = StrategyRedact
	case strategy == "hmac":
		f.Strategy = StrategyHMAC
	case strings.HasPrefix(strategy, "fixed:"):
		f.Strategy, f.Fixed = StrategyFixed, strings.TrimPrefix(strategy, "fixed:")
	default:
		p.add(at, "unknown strategy %q: use null, redact, hmac or fixed:<value>", strategy)
		return f, false
	}
	if f.Path != nil {
		return f, true
	}
	for _, pk := range c.PrimaryKey {
		if pk == f.Column {
			p.add(at, "%q is the primary key: anonymising it would lose the row; use delete instead", f.Column)
			return f, false
		}
	}
	for _, ref := range c.References {
		if ref.Column == f.Column && f.Strategy != StrategyNull && f.Strategy != StrategyFixed {
			// A hash or a marker in a key column would dangle or, worse,
			// point at another row: only unlinking is meaningful.
			p.add(at, "%q is a reference: detach the rows with null or fixed:<value> (they stay, unlinked from the person), or use delete or keep", f.Column)
			return f, false
		}
	}
	if f.Column == c.Tenant {
		p.add(at, "%q is the tenant column: anonymising it would move the row out of its tenant", f.Column)
		return f, false
	}
	return f, true
}

// anonymizesColumn reports whether the whole column col is rewritten.
func (c *Collection) anonymizesColumn(col string) bool {
	for _, f := range c.Erasure.Fields {
		if f.Column == col && f.Path == nil {
			return true
		}
	}
	return false
}

// Columns returns every column the registry names for c, sorted: primary
// key, identity, tenant, references, categories, JSON, files, anonymised
// fields and the retention timestamp.
func (c *Collection) Columns() []string {
	set := map[string]bool{}
	add := func(cols ...string) {
		for _, col := range cols {
			if col != "" {
				set[col] = true
			}
		}
	}
	add(c.PrimaryKey...)
	add(c.Email...)
	for _, cols := range c.Identities {
		add(cols...)
	}
	add(c.Tenant)
	for _, r := range c.References {
		add(r.Column)
		for _, w := range r.Where {
			add(w.Column)
		}
	}
	for col := range c.Categories {
		add(col)
	}
	for col := range c.JSON {
		add(col)
	}
	for col := range c.Files {
		add(col)
	}
	for _, f := range c.Mentions {
		add(f.Column)
	}
	for _, f := range c.Erasure.Fields {
		add(f.Column)
	}
	if c.Retention != nil {
		add(c.Retention.Timestamp)
		for _, f := range c.Retention.Redact {
			add(f.Column)
		}
	}
	return sortedKeys(set)
}
