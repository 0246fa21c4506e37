package registry

import (
	"sort"
	"strings"
)

// buildCollection checks one collection on its own; references to other
// collections are resolved later by checkGraph.
func buildCollection(p *problems, r *Registry, key string, fc *fileCollection) *Collection {
	at := []string{"collections", key}
	storeName, name, ok := strings.Cut(key, ".")
	if !ok || strings.Contains(name, ".") || !nameRE.MatchString(name) {
		p.add(at, "name collections <store>.<name>, such as app.users")
		return nil
	}
	st := r.Stores[storeName]
	switch {
	case st == nil:
		p.add(at, "unknown store %q: declare it under stores", storeName)
		return nil
	case st.Kind != KindSQL && st.Kind != KindMongo:
		p.add(at, "store %q is a %s store: collections live in sql and mongo stores", storeName, st.Kind)
		return nil
	case fc == nil:
		p.add(at, "empty collection: give it at least an identity or references, and an erasure")
		return nil
	}
	c := &Collection{Key: key, Store: storeName, Name: name, Table: fc.Table, PrimaryKey: fc.PrimaryKey,
		Tenant: fc.Tenant, Categories: copyMap(fc.Categories), Files: fc.Files, Responses: fc.Responses,
		JSON: map[string][]*Path{}}
	if c.Table == "" {
		c.Table = name
	}
	c.KeyDeclared = len(c.PrimaryKey) > 0
	if !c.KeyDeclared {
		c.PrimaryKey = []string{"id"}
		if st.Kind == KindMongo {
			c.PrimaryKey = []string{MongoID}
		}
	}
	for i, col := range c.PrimaryKey {
		if col == "" {
			p.add(append(at, "primary_key"), "column %d is empty", i+1)
		}
	}
	if fc.Identity != nil {
		buildIdentityColumns(p, r, at, c, *fc.Identity)
	}

	for _, col := range sortedKeys(fc.References) {
		if ref, ok := buildReference(p, at, storeName, col, fc.References[col]); ok {
			c.References = append(c.References, ref)
		}
	}
	for _, col := range sortedKeys(fc.Categories) {
		if !categoryRE.MatchString(fc.Categories[col]) {
			p.add(append(at, "categories", col), "%q is not a category: use dotted lower-case words such as user.contact.email", fc.Categories[col])
		}
	}
	for _, col := range sortedKeys(fc.JSON) {
		if len(fc.JSON[col]) == 0 {
			p.add(append(at, "json", col), "no paths: list the paths that hold personal data, such as author.email")
		}
		for i, raw := range fc.JSON[col] {
			path, err := ParsePath(raw)
			if err != nil {
				p.add(append(at, "json", col, itoa(i)), "%v", err)
				continue
			}
			c.JSON[col] = append(c.JSON[col], path)
		}
	}
	buildPathCategories(p, at, c)
	c.Label = fc.Label
	buildReport(p, at, c, fc.Report)
	buildIdentifyingFields(r, c)
	for _, col := range sortedKeys(fc.Files) {
		bs := r.Stores[fc.Files[col]]
		if bs == nil || bs.Kind != KindBlob {
			p.add(append(at, "files", col), "%q is not a blob store: declare it under stores with kind: blob", fc.Files[col])
		}
	}
	if fc.hasTemplates() {
		buildTemplates(p, r, at, c, fc)
	} else {
		buildErasure(p, at, c, fc.Erasure)
	}
	buildRetention(p, at, c, fc.Retention)
	buildMentions(p, at, r, c, fc)
	checkMongoCollection(p, at, r, c)
	c.Purposes = append([]string(nil), fc.Purposes...)
	if fc.Purpose != "" {
		c.Purposes = append([]string{fc.Purpose}, c.Purposes...)
	}
	for i, pu := range c.Purposes {
		if _, ok := r.Purposes[pu]; !ok {
			field := []string{"purposes", itoa(i)}
			if fc.Purpose != "" {
				field = []string{"purpose"}
				if i > 0 {
					field = []string{"purposes", itoa(i - 1)}
				}
			}
			p.add(append(at, field...), "unknown purpose %q: declare it under purposes", pu)
		}
	}
	sort.Strings(c.Purposes)
	return c
}

func buildRetention(p *problems, at []string, c *Collection, fr *fileRetention) {
	if fr == nil {
		return
	}
	at = append(at, "retention")
	d, never, err := ParseWindow(fr.Window)
	if err != nil {
		p.add(append(at, "window"), "%v", err)
	}
	ret := &Retention{Window: d, Never: never, Timestamp: fr.Timestamp.Column, Unit: fr.Timestamp.Unit, Action: Action(fr.Action)}
	if !validUnit(ret.Unit) {
		p.add(append(at, "timestamp", "unit"), "unknown unit %q: use s, ms, us or ns (seconds, milliseconds, microseconds or nanoseconds since 1970)", ret.Unit)
	}
	if ret.Unit != "" && ret.Timestamp == "" {
		p.add(append(at, "timestamp", "column"), "required: name the column that dates each row, such as created_at")
	}
	if ret.Action == "" {
		ret.Action = ActionDelete
	}
	switch ret.Action {
	case ActionDelete:
	case ActionAnonymize:
		if c.Erasure.Action != ActionAnonymize {
			p.add(append(at, "action"), "anonymize uses the fields of erasure.anonymize: declare them there")
		}
	default:
		p.add(append(at, "action"), "unknown action %q: use delete or anonymize", fr.Action)
	}
	if !never && ret.Timestamp == "" {
		p.add(append(at, "timestamp"), "required: name the column that dates each row, such as created_at")
	}
	c.Retention = ret
	buildRedaction(p, at, c, fr)
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
