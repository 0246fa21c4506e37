package registry

// What the records of processing (GDPR Art. 30) need beyond the data
// itself: who the data is about, per purpose, and which recipients send
// it outside the EEA. Both sections are optional.

// buildRecords checks the subjects: and transfers: sections of f and
// copies them into r: subjects are keyed by a declared purpose,
// transfers by a declared recipient or processor store.
func buildRecords(p *problems, r *Registry, f *fileRegistry) {
	for _, purpose := range sortedKeys(f.Subjects) {
		if _, ok := r.Purposes[purpose]; !ok {
			p.add([]string{"subjects", purpose}, "unknown purpose %q: key subjects by a purpose declared under purposes", purpose)
			continue
		}
		for i, s := range f.Subjects[purpose] {
			if s == "" {
				p.add([]string{"subjects", purpose, itoa(i)}, "empty: name a category of people, such as \"end users of the studios\"")
			}
		}
	}
	for _, name := range sortedKeys(f.Transfers) {
		_, recipient := r.Recipients[name]
		if st := r.Stores[name]; !recipient && (st == nil || st.Kind != KindProcessor) {
			p.add([]string{"transfers", name}, "unknown recipient %q: key transfers by a name under recipients or a processor store", name)
		} else if f.Transfers[name] == "" {
			p.add([]string{"transfers", name}, "empty: say where the data goes and under which safeguard, such as \"USA, standard contractual clauses\"")
		}
	}
	r.Subjects, r.Transfers = f.Subjects, f.Transfers
}
