package registry

import (
	"regexp"
	"slices"
	"strings"
)

// ParamTenant is the template parameter bound to the request's tenant
// (NULL for a request across all tenants).
const ParamTenant = "tenant"

// Templates is a collection reached by bound-parameter SQL rather than by
// identities and references: a polymorphic table, a stored procedure.
// Parameters are named (:email, :phone, :tenant, :app.users.id) and bound
// from the request's identities, its tenant and the values of registry
// columns in the subject's rows (frozen before an erasure changes
// anything). A template runs once per combination of its parameters'
// values.
type Templates struct {
	Access *Template   // SELECT: the rows an access package exports
	Count  *Template   // SELECT returning one number: the rows a plan counts
	Verify *Template   // SELECT that returns no row once erased; nil when kept
	Erase  []*Template // DELETE, UPDATE or CALL statements, run in order in one transaction; none when kept
}

// Template is one SQL statement with named parameters.
type Template struct {
	Path   string   // where it is in the file, such as collections.app.attachments.erase.0
	SQL    string   // as written, without a trailing ';'
	Params []string // the parameters in order of occurrence, repeated ones included
	pieces []string // the text around the parameters: len(Params)+1 pieces
	at     []string // Path's segments
}

// Bind returns the statement with the i-th parameter occurrence replaced
// by mark(i): "$1" for Postgres, "?" for MySQL and SQLite.
func (t *Template) Bind(mark func(i int) string) string {
	var b strings.Builder
	for i, piece := range t.pieces {
		b.WriteString(piece)
		if i < len(t.Params) {
			b.WriteString(mark(i))
		}
	}
	return b.String()
}

// Names returns the template's distinct parameters, sorted.
func (t *Template) Names() []string {
	out := slices.Clone(t.Params)
	slices.Sort(out)
	return slices.Compact(out)
}

// All returns every template of ts: access, count, verify, then erase.
func (ts *Templates) All() []*Template {
	out := []*Template{ts.Access, ts.Count}
	if ts.Verify != nil {
		out = append(out, ts.Verify)
	}
	return append(out, ts.Erase...)
}

// fileTemplates is a collection's templates as written.
type fileTemplates struct {
	Access string     `yaml:"access,omitempty"`
	Count  string     `yaml:"count,omitempty"`
	Verify string     `yaml:"verify,omitempty"`
	Erase  stringList `yaml:"erase,omitempty"`
}

func (fc *fileCollection) hasTemplates() bool {
	t := fc.fileTemplates
	return t.Access != "" || t.Count != "" || t.Verify != "" || len(t.Erase) > 0
}

// buildTemplates checks a template collection: access and count always,
// verify and erase unless the collection is kept (erasure: {keep: …}),
// and nothing of what identities and references reach.
func buildTemplates(p *problems, r *Registry, at []string, c *Collection, fc *fileCollection) {
	driver := r.Stores[c.Store].Driver
	unused := map[string]bool{"table": fc.Table != "", "primary_key": len(fc.PrimaryKey) > 0, "identity": fc.Identity != nil,
		"references": len(fc.References) > 0, "json": len(fc.JSON) > 0, "files": len(fc.Files) > 0,
		"retention": fc.Retention != nil, "responses": fc.Responses}
	for _, k := range sortedKeys(unused) {
		if unused[k] {
			p.add(append(at, k), "not used by a collection reached by SQL templates: remove it, or drop the templates")
		}
	}
	ts := &Templates{}
	one := func(field, sql string, verbs ...string) *Template {
		if sql == "" {
			p.add(append(at, field), "required for a collection reached by SQL templates: write a %s statement", verbs[0])
			return nil
		}
		return buildTemplate(p, append(at, field), driver, sql, verbs)
	}
	ts.Access = one("access", fc.Access, "SELECT", "WITH")
	ts.Count = one("count", fc.Count, "SELECT", "WITH")
	c.Erasure = Erasure{Action: ActionDelete}
	if fc.Erasure != nil {
		if fc.Erasure.Action != string(ActionKeep) || len(fc.Erase) > 0 || fc.Verify != "" {
			p.add(append(at, "erasure"), "a collection reached by SQL templates erases with erase and verify: remove erasure, or keep it with {keep: \"reason\"} and no erase nor verify")
		}
		buildErasure(p, at, c, fc.Erasure)
	} else {
		ts.Verify = one("verify", fc.Verify, "SELECT", "WITH")
		if len(fc.Erase) == 0 {
			p.add(append(at, "erase"), "required for a collection reached by SQL templates: DELETE, UPDATE or CALL statements, or erasure: {keep: \"reason\"}")
		}
		for i, sql := range fc.Erase {
			if t := buildTemplate(p, append(at, "erase", itoa(i)), driver, sql, []string{"DELETE", "UPDATE", "CALL"}); t != nil {
				ts.Erase = append(ts.Erase, t)
			}
		}
	}
	if ts.Access != nil && ts.Count != nil && (ts.Verify != nil || fc.Erasure != nil) {
		c.Templates = ts
	}
}

// buildTemplate checks one statement: one statement of the expected verb,
// named parameters only, and no text built into it.
func buildTemplate(p *problems, at []string, driver, sql string, verbs []string) *Template {
	t, msg := scanTemplate(driver, sql)
	if msg != "" {
		p.add(at, "%s", msg)
		return nil
	}
	t.Path, t.at = strings.Join(at, "."), slices.Clone(at)
	if verb := firstWord(t.SQL); !slices.Contains(verbs, verb) {
		p.add(at, "starts with %q: write a %s statement", verb, strings.Join(verbs, ", "))
		return nil
	}
	return t
}

var (
	interpolationRE = regexp.MustCompile(`\$\{|\{\{|#\{|%[sdvq]`)
	literalEmailRE  = regexp.MustCompile(`@`)
	literalPhoneRE  = regexp.MustCompile(`^\s*\+[0-9\s().-]{6,}$`)
	literalParamRE  = regexp.MustCompile(`:[A-Za-z_]`)
)

// scanTemplate splits sql into its text and named parameters, skipping
// quoted text, quoted names and comments, and returns why it refuses it:
// interpolation, positional parameters, a parameter or an identity
// written inside quotes, or more than one statement. It reads the
// statement's tokens only; whether the database parses it is for the
// live check.
func scanTemplate(driver, sql string) (*Template, string) {
	if m := interpolationRE.FindString(sql); m != "" {
		return nil, "holds " + m + ": a template takes named parameters such as :email, never text built into it"
	}
	s := strings.TrimSpace(sql)
	t := &Template{}
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		next := byte(0)
		if i+1 < len(s) {
			next = s[i+1]
		}
		switch {
		case c == '\'' || (c == '"' && driver == DriverMySQL):
			end, lit := quoted(s, i, driver)
			if msg := checkLiteral(lit); msg != "" {
				return nil, msg
			}
			i = end
		case c == '"' || c == '`':
			end, _ := quoted(s, i, driver)
			i = end
		case c == '-' && next == '-', c == '#' && driver == DriverMySQL:
			i = lineEnd(s, i)
		case c == '/' && next == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return nil, "an unclosed /* comment"
			}
			i += end + 4
		case c == '?':
			return nil, "holds a positional parameter '?': name it, such as :email or :app.users.id"
		case c == '$' && next >= '0' && next <= '9':
			return nil, "holds a positional parameter '$" + string(next) + "': name it, such as :email or :app.users.id"
		case c == '$':
			return nil, "holds '$' (dollar-quoted text): write one plain statement with named parameters"
		case c == ':' && next == ':':
			i += 2 // a Postgres cast
		case c == ':' && isNameStart(next):
			end := i + 1
			for end < len(s) && (isNameByte(s[end]) || (s[end] == '.' && end+1 < len(s) && isNameStart(s[end+1]))) {
				end++
			}
			t.pieces = append(t.pieces, s[start:i])
			t.Params = append(t.Params, s[i+1:end])
			start, i = end, end
		case c == ';':
			if rest := strings.TrimSpace(stripComments(s[i+1:], driver)); rest != "" {
				return nil, "holds more than one statement: write one statement per template (erase takes a list)"
			}
			t.pieces = append(t.pieces, s[start:i])
			t.SQL = s[:i]
			return t, ""
		default:
			i++
		}
	}
	t.pieces = append(t.pieces, s[start:])
	t.SQL = s
	if strings.TrimSpace(stripComments(s, driver)) == "" {
		return nil, "empty: write one statement"
	}
	return t, ""
}

// quoted returns the index after the quoted text starting at s[i], and
// the text inside. A doubled quote is the quote itself; MySQL also
// escapes with a backslash.
func quoted(s string, i int, driver string) (int, string) {
	q := s[i]
	var b strings.Builder
	for j := i + 1; j < len(s); j++ {
		switch {
		case s[j] == '\\' && driver == DriverMySQL && q != '`' && j+1 < len(s):
			j++
			b.WriteByte(s[j])
		case s[j] == q && j+1 < len(s) && s[j+1] == q:
			j++
			b.WriteByte(q)
		case s[j] == q:
			return j + 1, b.String()
		default:
			b.WriteByte(s[j])
		}
	}
	return len(s), b.String()
}

// checkLiteral refuses quoted text that stands where a parameter belongs.
func checkLiteral(lit string) string {
	switch {
	case literalParamRE.MatchString(lit):
		return "a parameter inside quotes is text, not a parameter: write :email, not ':email'"
	case literalEmailRE.MatchString(lit):
		return "quotes text that looks like an email address: bind it as :email instead"
	case literalPhoneRE.MatchString(lit):
		return "quotes text that looks like a phone number: bind it as :phone instead"
	}
	return ""
}

func lineEnd(s string, i int) int {
	if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
		return i + j + 1
	}
	return len(s)
}

// stripComments removes -- (and, for MySQL, #) line comments and /* */
// comments from a statement's tail.
func stripComments(s, driver string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "--"), s[i] == '#' && driver == DriverMySQL:
			i = lineEnd(s, i)
		case strings.HasPrefix(s[i:], "/*"):
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return b.String()
			}
			i += end + 4
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String()
}

func isNameStart(c byte) bool { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isNameByte(c byte) bool  { return isNameStart(c) || (c >= '0' && c <= '9') }

// firstWord returns the statement's first word, upper-cased, after
// comments and opening parentheses.
func firstWord(sql string) string {
	s := strings.TrimLeft(stripComments(sql, ""), " \t\r\n(")
	end := strings.IndexFunc(s, func(r rune) bool { return !(r < 128 && isNameByte(byte(r))) })
	if end < 0 {
		end = len(s)
	}
	return strings.ToUpper(s[:end])
}

// checkTemplateParams checks, once every collection is built, that each
// template's parameters name something a request binds: :tenant (required
// in a collection with a tenant, refused in one without), an identity type,
// or a column of another collection as <store>.<collection>.<column>; and
// that each template binds at least one identity or column, so that it
// cannot select every person's rows.
func checkTemplateParams(p *problems, r *Registry) {
	for _, key := range sortedKeys(r.Collections) {
		c := r.Collections[key]
		for _, ref := range c.References {
			if t := r.Collections[ref.Target]; t != nil && t.Templates != nil {
				p.add([]string{"collections", key, "references", ref.Column}, "%s is reached by SQL templates, which find no rows to hang from: reference a collection that identities or references reach", t.Key)
			}
		}
		if c.Templates == nil {
			continue
		}
		for _, t := range c.Templates.All() {
			at := t.at
			personal := false
			for _, name := range t.Names() {
				ok, who := r.checkParam(c, name)
				if !ok {
					p.add(at, "%s", who)
				}
				personal = personal || (ok && name != ParamTenant)
			}
			if c.Tenant != "" && !slices.Contains(t.Params, ParamTenant) {
				p.add(at, "the collection has a tenant: restrict the statement to :tenant (NULL for a request across all tenants)")
			}
			if !personal {
				p.add(at, "binds no identity nor column: it would reach every person; use :email, :phone, :user_id or a column such as :app.users.id")
			}
		}
	}
}

// checkParam reports whether name is a parameter a request binds for c,
// or else what is wrong with it.
func (r *Registry) checkParam(c *Collection, name string) (bool, string) {
	if name == ParamTenant {
		if c.Tenant == "" {
			return false, ":tenant: the collection has no tenant; declare tenant: <column> or remove :tenant"
		}
		return true, ""
	}
	if r.Identities[name] != nil {
		return true, ""
	}
	dot := strings.LastIndexByte(name, '.')
	if dot < 0 {
		return false, ":" + name + ": unknown parameter; use :tenant, an identity type (" + strings.Join(sortedKeys(r.Identities), ", ") + ") or a column such as :app.users.id"
	}
	target := r.Collections[name[:dot]]
	switch {
	case target == nil:
		return false, ":" + name + ": names no collection; write :<store>.<collection>.<column>"
	case target.Templates != nil:
		return false, ":" + name + ": " + target.Key + " is reached by templates itself; bind a collection that identities or references reach"
	case !slices.Contains(target.Columns(), name[dot+1:]):
		return false, ":" + name + ": " + target.Key + " has no column " + name[dot+1:] + " in the registry"
	}
	return true, ""
}

// marshalTemplates writes c's templates into fc, the canonical form.
func marshalTemplates(c *Collection, fc *fileCollection) {
	ts := c.Templates
	fc.Table, fc.PrimaryKey = "", nil
	fc.Access, fc.Count = ts.Access.SQL, ts.Count.SQL
	if ts.Verify != nil {
		fc.Verify = ts.Verify.SQL
	}
	for _, t := range ts.Erase {
		fc.Erase = append(fc.Erase, t.SQL)
	}
	if c.Erasure.Action == ActionKeep {
		fc.Erasure = &fileErasure{Action: string(ActionKeep), Keep: c.Erasure.KeepReason}
	}
}

// TemplateParams returns the column parameters (<store>.<collection>.<column>)
// of every template of the registry, sorted, without duplicates.
func (r *Registry) TemplateParams() []string {
	var out []string
	for _, c := range r.Collections {
		if c.Templates == nil {
			continue
		}
		for _, t := range c.Templates.All() {
			for _, name := range t.Params {
				if strings.Contains(name, ".") {
					out = append(out, name)
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
