package ropa

import (
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/lethe-privacy/lethe/pkg/registry"
)

// Record is the records of processing of one registry.
type Record struct {
	// RegistryVersion is the registry's version: the record describes it.
	RegistryVersion string     `json:"registry_version"`
	Activities      []Activity `json:"activities"`
}

// Activity is one purpose of processing and what serves it.
type Activity struct {
	Purpose     string `json:"purpose"`
	Description string `json:"description"`
	// DataCategories are the categories of every collection of the
	// purpose, sorted and without repeats.
	DataCategories []string `json:"data_categories"`
	// Subjects are the categories of people, as the registry's subjects:
	// section declares them or, when it does not, the people the identity
	// collections find (SubjectsDeclared false).
	Subjects         []string `json:"data_subjects"`
	SubjectsDeclared bool     `json:"data_subjects_declared"`
	// Collections hold the purpose's data, each with its retention.
	Collections []Holding   `json:"collections"`
	Recipients  []Recipient `json:"recipients"`
	// Transfers are the recipients' transfers outside the EEA.
	Transfers []Transfer `json:"transfers"`
}

// Holding is one collection of an activity.
type Holding struct {
	Collection string   `json:"collection"`
	Categories []string `json:"categories"`
	// Retention says how long rows are kept, in words.
	Retention string `json:"retention"`
	// Erasure says what an erasure does to the rows, in words.
	Erasure string `json:"erasure"`
}

// Recipient is a recipient of the data: one the registry lists under
// recipients, or a processor store told of erasures.
type Recipient struct {
	Name        string `json:"name"`
	Kind        string `json:"kind"` // "recipient" or "processor"
	Description string `json:"description"`
}

// Transfer is a transfer outside the EEA, as the registry declares it.
type Transfer struct {
	Recipient string `json:"recipient"`
	Detail    string `json:"detail"`
}

// Undeclared is the purpose of the collections the registry gives none.
const Undeclared = "undeclared"

// Build returns the records of processing of reg, activities sorted by
// purpose; collections without a purpose form the Undeclared activity.
func Build(reg *registry.Registry) *Record {
	byPurpose := map[string][]*registry.Collection{}
	for _, c := range reg.Order() {
		purposes := c.Purposes
		if len(purposes) == 0 {
			purposes = []string{Undeclared}
		}
		for _, p := range purposes {
			byPurpose[p] = append(byPurpose[p], c)
		}
	}
	rec := &Record{RegistryVersion: reg.Version(), Activities: []Activity{}}
	recipients, transfers := recipientsOf(reg)
	for _, p := range slices.Sorted(maps.Keys(byPurpose)) {
		a := Activity{Purpose: p, Description: reg.Purposes[p], Recipients: recipients, Transfers: transfers}
		if p == Undeclared {
			a.Description = "Collections the registry gives no purpose: declare one for each"
		}
		cats := map[string]bool{}
		for _, c := range sortedCollections(byPurpose[p]) {
			h := holding(c)
			for _, cat := range h.Categories {
				cats[cat] = true
			}
			a.Collections = append(a.Collections, h)
		}
		a.DataCategories = slices.Sorted(maps.Keys(cats))
		a.Subjects, a.SubjectsDeclared = subjects(reg, p, byPurpose[p])
		rec.Activities = append(rec.Activities, a)
	}
	return rec
}

// holding describes collection c.
func holding(c *registry.Collection) Holding {
	cats := map[string]bool{}
	for _, cat := range c.Categories {
		cats[cat] = true
	}
	for _, cat := range c.PathCategories {
		cats[cat] = true
	}
	return Holding{Collection: c.Key, Categories: slices.Sorted(maps.Keys(cats)), Retention: Retention(c), Erasure: Erasure(c)}
}

// subjects returns the declared categories of people of purpose, or the
// people found by email in the identity collections its collections hang
// from, with false.
func subjects(reg *registry.Registry, purpose string, cols []*registry.Collection) ([]string, bool) {
	if s := reg.Subjects[purpose]; len(s) > 0 {
		return append([]string(nil), s...), true
	}
	roots := map[string]bool{}
	for _, c := range cols {
		identityRoots(reg, c, roots, map[string]bool{})
	}
	if len(roots) == 0 {
		return []string{"not declared (add a subjects: section to the registry)"}, false
	}
	return []string{"people identified by their email in " + strings.Join(slices.Sorted(maps.Keys(roots)), ", ")}, false
}

// identityRoots adds to roots the identity collections c is, or hangs from.
func identityRoots(reg *registry.Registry, c *registry.Collection, roots, seen map[string]bool) {
	if seen[c.Key] {
		return
	}
	seen[c.Key] = true
	if c.Identity() {
		roots[c.Key] = true
	}
	for _, ref := range c.References {
		if t := reg.Collections[ref.Target]; t != nil {
			identityRoots(reg, t, roots, seen)
		}
	}
}

// recipientsOf lists the registry's recipients and processor stores, by
// name, and the transfers it declares for them.
func recipientsOf(reg *registry.Registry) ([]Recipient, []Transfer) {
	out := []Recipient{}
	for _, name := range slices.Sorted(maps.Keys(reg.Recipients)) {
		out = append(out, Recipient{Name: name, Kind: "recipient", Description: reg.Recipients[name]})
	}
	for _, name := range slices.Sorted(maps.Keys(reg.Stores)) {
		if s := reg.Stores[name]; s.Kind == registry.KindProcessor {
			out = append(out, Recipient{Name: name, Kind: "processor", Description: processorDescription(s)})
		}
	}
	transfers := []Transfer{}
	for _, name := range slices.Sorted(maps.Keys(reg.Transfers)) {
		transfers = append(transfers, Transfer{Recipient: name, Detail: reg.Transfers[name]})
	}
	return out, transfers
}

func processorDescription(s *registry.Store) string {
	if s.OpenDSR != "" {
		return "processor told of erasures through OpenDSR"
	}
	return "processor told of erasures by signed webhook"
}

func sortedCollections(cols []*registry.Collection) []*registry.Collection {
	out := append([]*registry.Collection(nil), cols...)
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
