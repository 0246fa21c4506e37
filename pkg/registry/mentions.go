package registry

// buildMentions checks a collection's mentions: the free-text columns or
// paths inside its JSON columns where people write about each other
// ("my manager Ada Lovelace said…"):
//
//	mentions: [title, body.parts[*].text]
//
// An erasure finds the erased person's names, emails and phones there in
// other people's rows and replaces each with its pseudonym. Entries follow
// the rules of retention's redact list (a JSON column only with a path
// inside it; never a key, identity, tenant, reference or file column).
// Only sql stores are scanned for mentions.
func buildMentions(p *problems, at []string, r *Registry, c *Collection, fc *fileCollection) {
	if len(fc.Mentions) == 0 {
		return
	}
	at = append(at, "mentions")
	switch {
	case r.Stores[c.Store].Kind != KindSQL:
		p.add(at, "mentions are scanned in sql stores only: remove mentions from this %s collection", r.Stores[c.Store].Kind)
		return
	case fc.hasTemplates():
		p.add(at, "a collection reached through SQL templates has no mentions: remove mentions, or declare the collection with identity and references")
		return
	}
	seen := map[string]bool{}
	for i, name := range fc.Mentions {
		f, ok := buildRedactField(p, append(at, itoa(i)), c, name)
		if !ok {
			continue
		}
		if seen[f.Name()] {
			p.add(append(at, itoa(i)), "%s is listed twice", f.Name())
			continue
		}
		seen[f.Name()] = true
		c.Mentions = append(c.Mentions, f)
	}
	sortFields(c.Mentions)
}

// MentionColumns returns the columns c's mentions live in, sorted, once each.
func (c *Collection) MentionColumns() []string {
	var cols []string
	for _, f := range c.Mentions {
		if len(cols) == 0 || cols[len(cols)-1] != f.Column {
			cols = append(cols, f.Column)
		}
	}
	return cols
}
