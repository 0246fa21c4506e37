package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"slices"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/lethe-privacy/lethe/dsr"
)

// Identity types every registry knows. A request is filed with one or more
// of them; enrichment finds the others.
const (
	IdentityEmail  = "email"
	IdentityPhone  = "phone"
	IdentityUserID = "user_id"
)

// How an identity type's values are normalised before they are matched.
const (
	NormalizeEmail = "email" // trimmed, domain lower-cased (dsr.NormalizeEmail); matched case-insensitively
	NormalizeE164  = "e164"  // a phone number in E.164 form, +447700900123
	NormalizeTrim  = "trim"  // surrounding spaces removed, matched exactly
)

// DeriveSHA256 derives an identity from the email: the hex SHA-256 of the
// normalised, folded address (dsr.FoldEmail), as analytics tables key people.
const DeriveSHA256 = "sha256"

// IdentityType is one kind of identity (email, phone, user_id, or one of
// the application's own such as stripe_customer).
type IdentityType struct {
	Name      string
	Normalize string // NormalizeEmail, NormalizeE164 or NormalizeTrim
	// Region is the ISO 3166 region of phone numbers written without a
	// country code ("GB"); "" requires the +country form.
	Region string
	// Derive is DeriveSHA256 for a type computed from the email, never
	// filed nor looked up; "" otherwise.
	Derive string
}

// Lookup is one enrichment step: from the subject's rows of collection
// From (found by the identities known so far and the references), read
// the identities of the types Find, from the columns From declares for
// them under identity.
type Lookup struct {
	From string   // collection key
	Find []string // identity types
}

type fileIdentityType struct {
	Normalize string `yaml:"normalize,omitempty"`
	Region    string `yaml:"region,omitempty"`
	Derive    string `yaml:"derive,omitempty"`
}

type fileLookup struct {
	From string   `yaml:"from"`
	Find []string `yaml:"find"`
}

// fileIdentity is a collection's identity section: identity type → the
// columns holding it, such as {email: email, phone: [mobile, landline]}.
type fileIdentity map[string]stringList

var (
	identityNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)
	// phoneRE is what a phone number is written with; the library alone
	// would find a number in any text that holds digits.
	phoneRE = regexp.MustCompile(`^\+?[0-9][0-9 ().-]*$`)
)

// builtinIdentityTypes are the types a registry has without declaring them.
func builtinIdentityTypes() map[string]*IdentityType {
	return map[string]*IdentityType{
		IdentityEmail:  {Name: IdentityEmail, Normalize: NormalizeEmail},
		IdentityPhone:  {Name: IdentityPhone, Normalize: NormalizeE164},
		IdentityUserID: {Name: IdentityUserID, Normalize: NormalizeTrim},
	}
}

// buildIdentityTypes checks the top-level identities section:
//
//	identities:
//	  phone: {normalize: e164, region: GB}
//	  stripe_customer: {normalize: trim}
//	  email_sha256: {derive: sha256}
func buildIdentityTypes(p *problems, r *Registry, m map[string]*fileIdentityType) {
	r.Identities = builtinIdentityTypes()
	for _, name := range sortedKeys(m) {
		at := []string{"identities", name}
		ft := m[name]
		if ft == nil {
			ft = &fileIdentityType{}
		}
		switch {
		case !identityNameRE.MatchString(name) || name == ParamTenant:
			p.add(at, "%q is not an identity type name: use a lower-case word such as stripe_customer (tenant is reserved)", name)
			continue
		case name == IdentityEmail:
			p.add(at, "email is built in: remove it")
			continue
		}
		t := &IdentityType{Name: name, Normalize: ft.Normalize, Region: strings.ToUpper(ft.Region), Derive: ft.Derive}
		if t.Normalize == "" && t.Derive == "" {
			t.Normalize = NormalizeTrim
			if b := builtinIdentityTypes()[name]; b != nil {
				t.Normalize = b.Normalize
			}
		}
		switch {
		case t.Derive != "" && t.Derive != DeriveSHA256:
			p.add(append(at, "derive"), "unknown derivation %q: use sha256 (of the normalised email)", t.Derive)
		case t.Derive != "" && t.Normalize != "":
			p.add(at, "a derived identity has no normalize of its own: remove one of derive and normalize")
		case t.Derive == "" && !slices.Contains([]string{NormalizeEmail, NormalizeE164, NormalizeTrim}, t.Normalize):
			p.add(append(at, "normalize"), "unknown normalisation %q: use e164, email or trim", t.Normalize)
		case t.Region != "" && t.Normalize != NormalizeE164:
			p.add(append(at, "region"), "only e164 numbers have a region: remove it")
		case t.Region != "" && phonenumbers.GetCountryCodeForRegion(t.Region) == 0:
			p.add(append(at, "region"), "%q is not an ISO 3166 region such as GB or FR", ft.Region)
		}
		r.Identities[name] = t
	}
}

// buildLookups checks the top-level enrich section, once the collections
// are built:
//
//	enrich:
//	  - {from: app.users, find: [phone, stripe_customer]}
func buildLookups(p *problems, r *Registry, list []fileLookup) {
	for i, fl := range list {
		at := []string{"enrich", itoa(i)}
		c := r.Collections[fl.From]
		if c == nil {
			p.add(append(at, "from"), "unknown collection %q: name a collection whose rows hold the identities to find", fl.From)
			continue
		}
		if len(fl.Find) == 0 {
			p.add(append(at, "find"), "required: list the identity types to read from %s, such as [phone]", fl.From)
		}
		for j, kind := range fl.Find {
			t := r.Identities[kind]
			switch {
			case t == nil:
				p.add(append(at, "find", itoa(j)), "unknown identity type %q: declare it under identities", kind)
			case t.Derive != "":
				p.add(append(at, "find", itoa(j)), "%s is derived from the email: it is never looked up", kind)
			case len(c.IdentityColumns(kind)) == 0:
				p.add(append(at, "find", itoa(j)), "%s declares no %s column: add it under collections.%s.identity", c.Key, kind, c.Key)
			}
		}
		r.Enrich = append(r.Enrich, Lookup{From: fl.From, Find: append([]string(nil), fl.Find...)})
	}
}

// buildIdentityColumns reads a collection's identity section into c.Email
// and c.Identities.
func buildIdentityColumns(p *problems, r *Registry, at []string, c *Collection, fi fileIdentity) {
	at = append(at, "identity")
	if len(fi) == 0 {
		p.add(at, "required: name the columns holding identities, such as {email: email} or {phone: mobile}")
		return
	}
	for _, kind := range sortedKeys(fi) {
		cols := fi[kind]
		switch {
		case r.Identities[kind] == nil:
			p.add(append(at, kind), "unknown identity type %q: use email, phone, user_id or one declared under identities", kind)
			continue
		case len(cols) == 0:
			p.add(append(at, kind), "required: name the column holding the %s", kind)
			continue
		}
		if kind == IdentityEmail {
			c.Email = append([]string(nil), cols...)
			continue
		}
		if c.Identities == nil {
			c.Identities = map[string][]string{}
		}
		c.Identities[kind] = append([]string(nil), cols...)
	}
}

// IdentityColumns returns the columns of c holding identities of kind.
func (c *Collection) IdentityColumns(kind string) []string {
	if kind == IdentityEmail {
		return c.Email
	}
	return c.Identities[kind]
}

// marshalIdentity is the canonical form of c's identity section; nil
// when c has none.
func marshalIdentity(c *Collection) *fileIdentity {
	if !c.Identity() {
		return nil
	}
	fi := fileIdentity{}
	if len(c.Email) > 0 {
		fi[IdentityEmail] = c.Email
	}
	for kind, cols := range c.Identities {
		fi[kind] = cols
	}
	return &fi
}

// marshalIdentityTypes is the canonical form of the identities section:
// the types that differ from the built-in ones.
func marshalIdentityTypes(r *Registry) map[string]*fileIdentityType {
	var out map[string]*fileIdentityType
	builtin := builtinIdentityTypes()
	for name, t := range r.Identities {
		if b := builtin[name]; b != nil && *b == *t {
			continue
		}
		if out == nil {
			out = map[string]*fileIdentityType{}
		}
		out[name] = &fileIdentityType{Normalize: t.Normalize, Region: t.Region, Derive: t.Derive}
	}
	return out
}

func marshalLookups(r *Registry) []fileLookup {
	var out []fileLookup
	for _, l := range r.Enrich {
		out = append(out, fileLookup{From: l.From, Find: l.Find})
	}
	return out
}

// NormalizeIdentity returns raw, an identity of type kind, in the form it
// is matched in: an email as dsr.NormalizeEmail returns it, a phone number
// in E.164, anything else trimmed. Errors are EUNPROCESSABLE *dsr.Error
// that name the type and never repeat the value: an unknown type, a
// derived one (computed from the email, never filed), an empty value or
// one that is not a phone number.
func (r *Registry) NormalizeIdentity(kind, raw string) (string, error) {
	t := r.Identities[kind]
	if t == nil {
		return "", dsr.Errorf(dsr.EUNPROCESSABLE, "identities: unknown identity type %q: use %s", kind, strings.Join(r.IdentityTypes(), ", "))
	}
	if t.Derive != "" {
		return "", dsr.Errorf(dsr.EUNPROCESSABLE, "identities.%s: derived from the email; file the email instead", kind)
	}
	return t.normalize(raw)
}

func (t *IdentityType) normalize(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	switch {
	case t.Normalize == NormalizeEmail:
		return dsr.NormalizeEmail(s)
	case s == "":
		return "", dsr.Errorf(dsr.EUNPROCESSABLE, "identities.%s: required", t.Name)
	case len(s) > 255:
		return "", dsr.Errorf(dsr.EUNPROCESSABLE, "identities.%s: longer than 255 characters", t.Name)
	case t.Normalize == NormalizeE164:
		num, err := phonenumbers.Parse(s, t.Region)
		if !phoneRE.MatchString(s) || err != nil || !phonenumbers.IsPossibleNumber(num) {
			return "", dsr.Errorf(dsr.EUNPROCESSABLE, "identities.%s: not a phone number such as +44 7700 900123", t.Name)
		}
		return phonenumbers.Format(num, phonenumbers.E164), nil
	}
	return s, nil
}

// IdentityTypes returns the names of the types a request may be filed
// with (the derived ones excluded), sorted.
func (r *Registry) IdentityTypes() []string {
	var out []string
	for _, name := range sortedKeys(r.Identities) {
		if r.Identities[name].Derive == "" {
			out = append(out, name)
		}
	}
	return out
}

// MatchValues returns the values an identity of type kind is matched
// with once found in a store as raw: raw trimmed and, when it
// normalises to something else, its normal form too, so that a phone
// written "+44 7700 900123" in one table finds "+447700900123" in another.
func (r *Registry) MatchValues(kind, raw string) []string {
	s := strings.TrimSpace(raw)
	if s == "" {
		return nil
	}
	out := []string{s}
	if t := r.Identities[kind]; t != nil && t.Derive == "" {
		if n, err := t.normalize(s); err == nil && n != s {
			out = append(out, n)
		}
	}
	return out
}

// Derived returns the identities derived from emails, by type: for each
// derived type, the hex SHA-256 of each folded address.
func (r *Registry) Derived(emails []string) map[string][]string {
	out := map[string][]string{}
	for _, name := range sortedKeys(r.Identities) {
		if r.Identities[name].Derive != DeriveSHA256 {
			continue
		}
		for _, e := range emails {
			sum := sha256.Sum256([]byte(dsr.FoldEmail(strings.TrimSpace(e))))
			out[name] = append(out[name], hex.EncodeToString(sum[:]))
		}
	}
	return out
}

// checkIdentitiesAnonymized requires an anonymised collection to rewrite
// every identity column besides the email ones: a row left holding the
// phone number would still be the person's.
func checkIdentitiesAnonymized(p *problems, at []string, c *Collection) {
	for _, kind := range sortedKeys(c.Identities) {
		for _, col := range c.Identities[kind] {
			if !c.anonymizesColumn(col) {
				p.add(append(at, "anonymize"), "the identity column %q keeps the %s: anonymise it (hmac, redact, null or fixed:<value>)", col, kind)
			}
		}
	}
}
