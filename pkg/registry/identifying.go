package registry

import (
	"regexp"
	"strings"
)

// kindRE is what a pseudonym kind may be: it is written into the data as
// "<kind:hhhhhh>".
var kindRE = regexp.MustCompile(`^[a-z][a-z_]{0,19}$`)

// builtinIdentifying are the categories that identify a person without
// the registry saying so: a name, and every contact detail.
var builtinIdentifying = map[string]string{
	"user.name":          "name",
	"user.name.*":        "name",
	"user.contact.email": "email",
	"user.contact.phone": "phone",
	"user.contact":       "contact",
	"user.contact.*":     "contact",
}

// buildIdentifying checks the top-level identifying section, which marks
// the application's own categories as identifying a person:
//
//	identifying: {hr.employee_name: name, crm.mobile: phone, crm.address.*: contact}
//
// A value in a column or JSON path of such a category is replaced whole
// by its pseudonym "<kind:hhhhhh>" by the redact action and by the redact
// anonymisation strategy. A key ending in ".*" covers every category
// below it.
func buildIdentifying(p *problems, r *Registry, m map[string]string) {
	r.Identifying = map[string]string{}
	for cat, kind := range builtinIdentifying {
		r.Identifying[cat] = kind
	}
	for _, cat := range sortedKeys(m) {
		at := []string{"identifying", cat}
		if !categoryRE.MatchString(strings.TrimSuffix(cat, ".*")) {
			p.add(at, "%q is not a category: use dotted lower-case words such as hr.employee_name, or hr.* for every category below hr", cat)
			continue
		}
		if !kindRE.MatchString(m[cat]) {
			p.add(at, "%q is not a pseudonym kind: use a lower-case word such as name, email, phone or contact", m[cat])
			continue
		}
		r.Identifying[cat] = m[cat]
	}
}

// PseudonymKind returns the kind of pseudonym ("name", "email", ...) that
// replaces a whole value of category, or "" when the category does not
// identify a person. An exact entry wins over the nearest "prefix.*".
func (r *Registry) PseudonymKind(category string) string {
	m := r.Identifying
	if m == nil {
		m = builtinIdentifying
	}
	if k, ok := m[category]; ok {
		return k
	}
	for c := category; ; {
		i := strings.LastIndexByte(c, '.')
		if i < 0 {
			return ""
		}
		c = c[:i]
		if k, ok := m[c+".*"]; ok {
			return k
		}
	}
}

// buildPathCategories moves the categories given to JSON paths
// ("body.author.name: user.name") from c.Categories to c.PathCategories;
// such a path must be declared under json too.
func buildPathCategories(p *problems, at []string, c *Collection) {
	for _, key := range sortedKeys(c.Categories) {
		i := strings.IndexAny(key, ".[")
		if i <= 0 {
			continue
		}
		cat := c.Categories[key]
		delete(c.Categories, key)
		col := key[:i]
		paths, isJSON := c.JSON[col]
		if !isJSON {
			p.add(append(at, "categories", key), "%q is not a JSON column: declare its paths under json, or give the category to the column", col)
			continue
		}
		path, err := ParsePath(strings.TrimPrefix(key[i:], "."))
		if err != nil {
			p.add(append(at, "categories", key), "%v", err)
			continue
		}
		declared := false
		for _, q := range paths {
			declared = declared || q.Raw == path.Raw
		}
		if !declared {
			p.add(append(at, "categories", key), "%s is not declared: add %q under json.%s", key, path.Raw, col)
			continue
		}
		if c.PathCategories == nil {
			c.PathCategories = map[string]string{}
		}
		c.PathCategories[Field{Column: col, Path: path}.Name()] = cat
	}
}

// buildIdentifyingFields fills c.Identifying from the categories of its
// columns and JSON paths.
func buildIdentifyingFields(r *Registry, c *Collection) {
	for _, m := range []map[string]string{c.Categories, c.PathCategories} {
		for name, cat := range m {
			if k := r.PseudonymKind(cat); k != "" {
				if c.Identifying == nil {
					c.Identifying = map[string]string{}
				}
				c.Identifying[name] = k
			}
		}
	}
}

// PseudonymKind returns the kind of pseudonym that replaces f's values
// whole, or "" when its category does not identify a person.
func (c *Collection) PseudonymKind(f Field) string { return c.Identifying[f.Name()] }
