// Package knownpeople keeps, for each tenant, the dictionary of the people
// the application holds for that tenant: the names, e-mail addresses and
// phone numbers found in the columns and JSON paths that the registry
// declares with a name or contact category (user.name, user.contact.email,
// user.contact.phone, or a category marked under identifying). It hands
// each tenant's dictionary to that tenant's Redactor, so that POST
// /v1/redact and the redact retention action replace these people's names
// in free text without being told them.
//
// A dictionary lives in memory only, is bounded (Options.Max people per
// tenant) and is kept fresh by a cheap incremental walk (rows added after
// the last primary key read), a periodic rebuild from scratch (which also
// drops people whose rows are gone or changed) and, after each completed
// erasure, by dropping the erased person at once (Index is a
// dsr.EndObserver) on the replica that ran it, and at their next walk on
// the others, which read the erasures completed since from the state
// store (Options.Erasures). Nothing of it is logged, and one tenant's people are
// read only through selections scoped to that tenant and given to that
// tenant's Redactor alone.
//
// A collection's rows belong to a tenant through its tenant column, a
// reference to a tenant-scoped collection (messages → chats), or, for a
// collection with neither such as a shared users table, through the
// tenant-scoped rows that reference it (the users who have chats in the
// studio). A collection reachable in none of these ways is not read.
package knownpeople

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/redact"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// Defaults of Options.
const (
	DefaultMax          = redact.DefaultMaxPeople
	DefaultEvery        = time.Minute
	DefaultRebuildEvery = time.Hour
	DefaultBatchSize    = 2000
)

// Options bound and pace an Index; zero values take the defaults.
type Options struct {
	// Max is the most people kept per tenant (DefaultMax, 100,000): about
	// some tens of megabytes of automaton. People past it are not kept.
	Max int
	// Every is the pace of the incremental walk (DefaultEvery).
	Every time.Duration
	// RebuildEvery is the pace of the rebuild from scratch
	// (DefaultRebuildEvery).
	RebuildEvery time.Duration
	// BatchSize is the rows read per statement (DefaultBatchSize).
	BatchSize int
	// Erasures, when set, is read at each incremental walk for the
	// erasures completed since the last, by any replica: their studios
	// are read again at once, so a person another replica erased leaves
	// this one's dictionaries within one walk, not at the next rebuild.
	Erasures ErasureLog
}

// ErasureLog lists the erasures completed in the state store every
// replica shares (state.CompletedErasures).
type ErasureLog interface {
	// CompletedSince returns the completed erasures whose FinishedAt is
	// since or later, in that order, at most limit; ID, Tenant, Subject
	// and FinishedAt are enough.
	CompletedSince(ctx context.Context, since time.Time, limit int) ([]*dsr.Request, error)
}

// Index holds every tenant's dictionary of known people. Build it with
// New; it is safe for concurrent use.
type Index struct {
	reg     *registry.Registry
	stores  map[string]connector.Reader
	keyring *redact.Keyring
	hasher  *dsr.SubjectHasher
	opts    Options
	log     *slog.Logger
	sources []source

	walk sync.Mutex // one walk at a time
	pub  sync.Mutex // one publication at a time, of the latest dictionary
	mu   sync.Mutex // guards what follows
	dict map[string]*dict
	// erased lists the erasures that ended since the walk under way
	// started: applied again when it ends, so a row read just before its
	// erasure does not bring the person back.
	erased []erasure
	built  chan struct{} // closed after the first full build
	once   sync.Once
	// stale lists the tenants (""; every tenant) to rebuild at once, after
	// an erasure whose person a dictionary may still hold under another
	// identity than the one it was filed with; kick wakes Run for them.
	stale map[string]bool
	kick  chan struct{}
	// followed is when Options.Erasures was last read in full, and
	// followedIDs the erasures already applied that a read from a little
	// before then finds again (by their completion time).
	followed    time.Time
	followedIDs map[string]time.Time
}

// dict is one tenant's people.
type dict struct {
	people map[string]*person // by key: "e:"+folded email, else "p:"+digits, else "n:"+folded name
	byName map[string]string  // folded name → the key of the person holding it
	cursor map[string]string  // collection key → the last primary key read
	full   bool               // Max reached: later people are not kept
}

type person struct {
	names, emails, phones []string
}

type erasure struct {
	tenant  string // "" for every tenant
	email   string // folded
	subject dsr.Subject
	ids     map[string]string
}

// source is one collection holding identities: the columns to read and,
// per column, the identities they hold.
type source struct {
	c      *registry.Collection
	cols   []string
	fields map[string][]field // column → fields in it
}

type field struct {
	path *registry.Path // nil: the column's value
	kind string         // "name", "email" or "phone"
}

// New returns the Index of the people in reg's collections, read through
// stores (by store name), whose dictionaries go to keyring; hasher, when
// not nil, lets an erasure filed by hash alone find its person. Call Run
// (or Rebuild) to fill it.
func New(reg *registry.Registry, stores map[string]connector.Reader, keyring *redact.Keyring, hasher *dsr.SubjectHasher, opts Options, log *slog.Logger) *Index {
	opts.Max = cmp.Or(opts.Max, DefaultMax)
	opts.Every = cmp.Or(opts.Every, DefaultEvery)
	opts.RebuildEvery = cmp.Or(opts.RebuildEvery, DefaultRebuildEvery)
	opts.BatchSize = cmp.Or(opts.BatchSize, DefaultBatchSize)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	x := &Index{reg: reg, stores: stores, keyring: keyring, hasher: hasher, opts: opts, log: log,
		dict: map[string]*dict{}, built: make(chan struct{}),
		stale: map[string]bool{}, kick: make(chan struct{}, 1), followed: time.Now(), followedIDs: map[string]time.Time{}}
	for _, key := range slices.Sorted(maps.Keys(reg.Collections)) {
		c := reg.Collections[key]
		if stores[c.Store] == nil || len(c.Identifying) == 0 {
			continue
		}
		s := source{c: c, fields: map[string][]field{}}
		for _, name := range slices.Sorted(maps.Keys(c.Identifying)) {
			kind := c.Identifying[name]
			if kind != "name" && kind != "email" && kind != "phone" {
				continue
			}
			col, f := name, field{kind: kind}
			for jc, paths := range c.JSON {
				for _, p := range paths {
					if (registry.Field{Column: jc, Path: p}).Name() == name {
						col, f.path = jc, p
					}
				}
			}
			if _, ok := s.fields[col]; !ok {
				s.cols = append(s.cols, col)
			}
			s.fields[col] = append(s.fields[col], f)
		}
		if len(s.cols) > 0 {
			x.sources = append(x.sources, s)
		}
	}
	return x
}

// Run fills the index at once, then walks incrementally every Every and
// rebuilds every RebuildEvery, and rebuilds a tenant at once after an
// erasure in it ended (at the next walk for an erasure another replica
// ran, read from Options.Erasures), until ctx is done. A failed walk is logged
// (without data) and tried again at the next tick.
func (x *Index) Run(ctx context.Context) {
	if err := x.Rebuild(ctx); err != nil && ctx.Err() == nil {
		x.log.Warn("known people: build failed; tried again", "error", err)
	}
	walk, rebuild := time.NewTicker(x.opts.Every), time.NewTicker(x.opts.RebuildEvery)
	defer walk.Stop()
	defer rebuild.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return
		case <-rebuild.C:
			err = x.Rebuild(ctx)
		case <-walk.C: // with any tenant a failed walk or another replica's erasure left stale
			err = errors.Join(x.followErasures(ctx), x.rebuildStale(ctx), x.Refresh(ctx))
		case <-x.kick:
			err = x.rebuildStale(ctx)
		}
		if err != nil && ctx.Err() == nil {
			x.log.Warn("known people: walk failed; tried again", "error", err)
		}
	}
}

// Built returns a channel closed once the index was first filled, even
// when that failed, so that a sweep waiting for it is not held forever.
func (x *Index) Built() <-chan struct{} { return x.built }

// Rebuild reads every tenant's people from scratch and replaces their
// dictionaries.
func (x *Index) Rebuild(ctx context.Context) error {
	defer x.once.Do(func() { close(x.built) })
	return x.run(ctx, true)
}

// Refresh reads the rows added since the last walk (by primary key) and
// adds their people. Rows changed or deleted since are seen by Rebuild.
func (x *Index) Refresh(ctx context.Context) error { return x.run(ctx, false) }

// rebuildStale rebuilds the tenants erasures marked stale: every tenant
// when one was across tenants. A tenant whose rebuild failed stays stale
// and is tried again at the next kick or rebuild.
func (x *Index) rebuildStale(ctx context.Context) error {
	x.mu.Lock()
	stale := x.stale
	x.stale = map[string]bool{}
	x.mu.Unlock()
	if len(stale) == 0 {
		return nil
	}
	var err error
	if stale[""] {
		err = x.Rebuild(ctx)
	} else {
		err = x.run(ctx, true, slices.Sorted(maps.Keys(stale))...)
	}
	if err != nil {
		x.mu.Lock()
		for t := range stale {
			x.stale[t] = true
		}
		x.mu.Unlock()
	}
	return err
}

// run walks every tenant, or only these when given (a full walk of
// some tenants keeps the others' dictionaries).
func (x *Index) run(ctx context.Context, full bool, only ...string) error {
	x.walk.Lock()
	defer x.walk.Unlock()
	x.mu.Lock()
	// clear first: the truncated array would keep erased people's
	// addresses reachable until overwritten.
	clear(x.erased)
	x.erased = x.erased[:0]
	prev := x.stale
	if full && len(only) == 0 {
		x.stale = map[string]bool{}
	}
	x.mu.Unlock()
	tenants := only
	if len(only) == 0 {
		var err error
		if tenants, err = x.tenants(ctx); err != nil {
			x.mu.Lock()
			for t := range prev {
				x.stale[t] = true
			}
			x.mu.Unlock()
			return err
		}
		if full {
			x.forget(tenants)
		}
	}
	var errs []error
	for _, t := range tenants {
		x.mu.Lock()
		old := x.dict[t]
		x.mu.Unlock()
		d := old
		if full || d == nil {
			d = &dict{people: map[string]*person{}, byName: map[string]string{}, cursor: map[string]string{}}
		} else {
			d = d.clone()
		}
		added, err := x.read(ctx, t, d)
		if err != nil {
			// The others are still walked; this tenant stays stale, so an
			// erasure in it that this walk would have applied is applied
			// at the next rebuild of it, not forgotten.
			x.mu.Lock()
			x.stale[t] = true
			x.mu.Unlock()
			errs = append(errs, err)
			continue
		}
		x.mu.Lock()
		added = d.drop(slices.DeleteFunc(slices.Clone(x.erased), func(e erasure) bool { return e.tenant != "" && e.tenant != t }), x.hasher) || added
		x.dict[t] = d
		x.mu.Unlock()
		if full || added || old == nil {
			x.publish(t)
		}
	}
	return errors.Join(errs...)
}

// publish gives tenant's Redactor its dictionary as it now stands.
func (x *Index) publish(tenant string) {
	x.pub.Lock()
	defer x.pub.Unlock()
	x.mu.Lock()
	d := x.dict[tenant]
	x.mu.Unlock()
	if d == nil {
		x.keyring.SetPeople(tenant, nil)
		return
	}
	x.keyring.SetPeople(tenant, d.compile(x.opts.Max))
}

// forget drops the dictionaries of the tenants no longer found.
func (x *Index) forget(tenants []string) {
	x.mu.Lock()
	var gone []string
	for t := range x.dict {
		if _, ok := slices.BinarySearch(tenants, t); !ok {
			delete(x.dict, t)
			gone = append(gone, t)
		}
	}
	x.mu.Unlock()
	for _, t := range gone {
		x.publish(t)
	}
}

// tenants returns the tenants found in the tenant columns of the sources'
// stores, ascending.
func (x *Index) tenants(ctx context.Context) ([]string, error) {
	seen := map[string]bool{}
	for _, key := range slices.Sorted(maps.Keys(x.reg.Collections)) {
		c := x.reg.Collections[key]
		st := x.stores[c.Store]
		if c.Tenant == "" || st == nil || !x.reaches(c) {
			continue
		}
		var after *string
		for {
			vals, err := st.Values(ctx, connector.Selection{Collection: c, All: true}, []string{c.Tenant}, after, x.opts.BatchSize)
			if err != nil {
				return nil, err
			}
			for _, v := range vals {
				if v != "" {
					seen[v] = true
				}
			}
			if len(vals) < x.opts.BatchSize {
				break
			}
			after = &vals[len(vals)-1]
		}
	}
	return slices.Sorted(maps.Keys(seen)), nil
}

// reaches reports whether some source's store is c's: only then do c's
// tenants matter.
func (x *Index) reaches(c *registry.Collection) bool {
	for _, s := range x.sources {
		if s.c.Store == c.Store {
			return true
		}
	}
	return false
}

// read adds to d the people of tenant t in the rows after d's cursors,
// and reports whether it added any.
func (x *Index) read(ctx context.Context, t string, d *dict) (bool, error) {
	added := false
	for _, s := range x.sources {
		sel, ok := x.selection(s.c, t, map[string]bool{})
		if !ok {
			continue
		}
		st := x.stores[s.c.Store]
		var after *string
		if k, ok := d.cursor[s.c.Key]; ok {
			after = &k
		}
		for {
			rows, err := st.Rows(ctx, sel, s.cols, after, x.opts.BatchSize)
			if err != nil {
				return added, err
			}
			for _, row := range rows {
				added = d.add(s.person(row), x.opts.Max) || added
			}
			if len(rows) == 0 {
				break
			}
			last := rows[len(rows)-1].Key
			after, d.cursor[s.c.Key] = &last, last
			if len(rows) < x.opts.BatchSize {
				break
			}
		}
	}
	return added, nil
}

// selection selects c's rows of tenant t: by its tenant column, through a
// tenant-scoped collection it references, or, when it references none,
// through the tenant-scoped rows that reference it; false when none leads
// to a tenant.
func (x *Index) selection(c *registry.Collection, t string, seen map[string]bool) (connector.Selection, bool) {
	if c.Tenant != "" {
		return connector.Selection{Collection: c, All: true, Tenant: t}, true
	}
	if seen[c.Key] {
		return connector.Selection{}, false
	}
	seen[c.Key] = true
	defer delete(seen, c.Key)
	// Only a parent scoped to the tenant leads to it: rows of a shared
	// parent (the sender in users) belong to every tenant it has rows in,
	// and the matches are OR'd, so following one would read other
	// tenants' rows.
	var matches []connector.Match
	for _, ref := range c.References {
		p := x.reg.Collections[ref.Target]
		if p == nil || p.Store != c.Store || !x.reg.TenantScoped(p) {
			continue
		}
		if ps, ok := x.selection(p, t, seen); ok {
			matches = append(matches, connector.Match{Columns: []string{ref.Column}, Parent: &ps,
				ParentColumn: ref.TargetColumn, Where: ref.Where})
		}
	}
	if len(matches) > 0 {
		return connector.Selection{Collection: c, Matches: matches}, true
	}
	// A collection with no path to a tenant-scoped parent: the rows that
	// a tenant's rows reference, the users with a chat in the studio. A conditional reference (principal_type = 'user') is
	// skipped: its condition is on the referencing rows.
	for _, key := range slices.Sorted(maps.Keys(x.reg.Collections)) {
		ch := x.reg.Collections[key]
		if ch.Store != c.Store || ch == c {
			continue
		}
		for _, ref := range ch.References {
			if ref.Target != c.Key || len(ref.Where) > 0 {
				continue
			}
			if cs, ok := x.selection(ch, t, seen); ok {
				matches = append(matches, connector.Match{Columns: []string{ref.TargetColumn}, Parent: &cs,
					ParentColumn: ref.Column})
			}
		}
	}
	return connector.Selection{Collection: c, Matches: matches}, len(matches) > 0
}

// person returns the identities of one row.
func (s source) person(row connector.Row) person {
	var p person
	for i, col := range s.cols {
		v := row.Values[i]
		if v == nil || strings.TrimSpace(*v) == "" {
			continue
		}
		var doc any
		parsed := false
		for _, f := range s.fields[col] {
			var vals []string
			if f.path == nil {
				vals = []string{*v}
			} else {
				if !parsed {
					doc, _ = registry.DecodeDocument(*v)
					parsed = true
				}
				for _, x := range f.path.Find(doc) {
					if str, ok := x.(string); ok {
						vals = append(vals, str)
					}
				}
			}
			for _, val := range vals {
				val = strings.TrimSpace(val)
				if val == "" || redact.IsPseudonym(val) {
					continue
				}
				switch f.kind {
				case "name":
					p.names = append(p.names, val)
				case "email":
					p.emails = append(p.emails, val)
				case "phone":
					p.phones = append(p.phones, val)
				}
			}
		}
	}
	return p
}

// key is the person's key in a dictionary: its first address, else its
// first number, else its first name.
func (p person) key() string {
	switch {
	case len(p.emails) > 0:
		return "e:" + dsr.FoldEmail(p.emails[0])
	case len(p.phones) > 0:
		return "p:" + digits(p.phones[0])
	case len(p.names) > 0:
		return "n:" + foldName(p.names[0])
	}
	return ""
}

func foldName(n string) string { return strings.ToLower(strings.Join(strings.Fields(n), " ")) }

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// add merges p into d and reports whether d gained an identity. A row
// naming someone without an address or number (a message's author) is
// the person already known by that name, if any; a person with an address
// takes in the one known by name alone.
func (d *dict) add(p person, max int) bool {
	k := p.key()
	if k == "" {
		return false
	}
	named := strings.HasPrefix(k, "n:")
	if named {
		if owner, ok := d.byName[k[2:]]; ok {
			k = owner
		}
	}
	have := d.people[k]
	if have == nil {
		if len(d.people) >= max {
			d.full = true
			return false
		}
		have = &person{}
		d.people[k] = have
	}
	grew := false
	merge := func(into *[]string, vals []string) {
		for _, v := range vals {
			if !slices.Contains(*into, v) {
				*into = append(*into, v)
				grew = true
			}
		}
	}
	if !named {
		for _, n := range p.names {
			if other, ok := d.people["n:"+foldName(n)]; ok && "n:"+foldName(n) != k {
				merge(&have.names, other.names)
				delete(d.people, "n:"+foldName(n))
			}
		}
	}
	merge(&have.names, p.names)
	merge(&have.emails, p.emails)
	merge(&have.phones, p.phones)
	for _, n := range have.names {
		d.byName[foldName(n)] = k
	}
	return grew
}

// drop removes the people es erased and reports whether one was. Each
// address is hashed once, under every key, however many erasures there
// are (a walk may bring a replica a thousand at once).
func (d *dict) drop(es []erasure, h *dsr.SubjectHasher) bool {
	if len(es) == 0 {
		return false
	}
	var m erasedSet
	for _, e := range es {
		m.add(e, h)
	}
	dropped := false
	for k, p := range d.people {
		if m.erased(p, h) {
			delete(d.people, k)
			for _, n := range p.names {
				if d.byName[foldName(n)] == k {
					delete(d.byName, foldName(n))
				}
			}
			dropped = true
		}
	}
	return dropped
}

// erasedSet is what a set of erasures erased: folded addresses, subject
// hashes (with a hasher) and phone numbers' digits.
type erasedSet struct {
	emails   map[string]bool
	subjects map[dsr.Subject]bool
	phones   map[string]bool
}

func (m *erasedSet) add(e erasure, h *dsr.SubjectHasher) {
	if e.email != "" {
		setAdd(&m.emails, e.email)
	}
	if h != nil && e.subject != "" {
		setAdd(&m.subjects, e.subject)
	}
	if ph := e.ids["phone"]; ph != "" {
		setAdd(&m.phones, digits(ph))
	}
}

func setAdd[K comparable](m *map[K]bool, k K) {
	if *m == nil {
		*m = map[K]bool{}
	}
	(*m)[k] = true
}

// erased reports whether p is one of the people m erased: by an address,
// its subject hash under the current or a previous key, or a phone.
func (m *erasedSet) erased(p *person, h *dsr.SubjectHasher) bool {
	for _, em := range p.emails {
		f := dsr.FoldEmail(em)
		if m.emails[f] {
			return true
		}
		if len(m.subjects) > 0 {
			for _, s := range h.Subjects(f) {
				if m.subjects[s] {
					return true
				}
			}
		}
	}
	for _, v := range p.phones {
		if len(m.phones) > 0 && m.phones[digits(v)] {
			return true
		}
	}
	return false
}

func (d *dict) clone() *dict {
	c := &dict{people: make(map[string]*person, len(d.people)), byName: maps.Clone(d.byName), cursor: maps.Clone(d.cursor), full: d.full}
	for k, p := range d.people {
		c.people[k] = &person{names: slices.Clone(p.names), emails: slices.Clone(p.emails), phones: slices.Clone(p.phones)}
	}
	return c
}

// compile returns d as the Redactor's dictionary, its people in key order
// so that a shared name goes to the same person on every replica.
func (d *dict) compile(max int) *redact.People {
	keys := slices.Sorted(maps.Keys(d.people))
	people := make([]redact.Person, 0, len(keys))
	for _, k := range keys {
		p := d.people[k]
		people = append(people, redact.Person{Names: p.names, Emails: p.emails, Phones: p.phones})
	}
	return redact.NewPeopleOf(people, max)
}

// RequestEnded implements dsr.EndObserver: a completed erasure drops its
// person from the dictionary of the request's tenant (of every tenant for
// an erasure across tenants) at once, and has Run rebuild that tenant
// (every tenant) at once for the identities it was not filed with.
func (x *Index) RequestEnded(ctx context.Context, r *dsr.Request) error {
	if r.Type != dsr.TypeErasure || r.Status != dsr.StatusCompleted {
		return nil
	}
	e := erasure{tenant: r.Tenant, subject: r.Subject, ids: r.Identities}
	if r.Email != "" {
		e.email = dsr.FoldEmail(r.Email)
	}
	x.mu.Lock()
	if r.FinishedAt != nil && r.ID != "" {
		x.followedIDs[r.ID] = *r.FinishedAt // not applied again from Options.Erasures
	}
	changed := x.ended(e)
	x.mu.Unlock()
	select {
	case x.kick <- struct{}{}:
	default:
	}
	for _, t := range changed {
		x.publish(t)
	}
	return nil
}

// ended drops the people es erased from the dictionaries they concern,
// marks their tenants for a rebuild and returns the tenants whose
// dictionary changed, to publish. x.mu is held.
func (x *Index) ended(es ...erasure) []string {
	x.erased = append(x.erased, es...)
	// The person may also be held under another identity than the one
	// the erasure was filed with (a user_id, a name alone): the tenant is
	// read again at once, its rows being gone by now.
	for _, e := range es {
		x.stale[e.tenant] = true
	}
	var changed []string
	for t, d := range x.dict {
		mine := slices.DeleteFunc(slices.Clone(es), func(e erasure) bool { return e.tenant != "" && e.tenant != t })
		if len(mine) == 0 {
			continue
		}
		d = d.clone()
		if d.drop(mine, x.hasher) {
			x.dict[t] = d
			changed = append(changed, t)
		}
	}
	return changed
}

// followOverlap is how far before the last read of Options.Erasures the
// next one starts: an erasure committed late, or stamped by a replica
// whose clock is behind, is still found; the ones found twice are
// applied once.
const followOverlap = 2 * time.Minute

// followLimit bounds the erasures read at one walk; past it, every
// tenant is rebuilt instead.
const followLimit = 1000

// followErasures applies the erasures completed since the last walk by
// any replica, read from Options.Erasures: each drops its person by
// subject hash at once and marks its tenant for the rebuild that follows
// in the same walk. Nothing of them is logged.
func (x *Index) followErasures(ctx context.Context) error {
	if x.opts.Erasures == nil {
		return nil
	}
	now := time.Now()
	x.mu.Lock()
	since := x.followed.Add(-followOverlap)
	x.mu.Unlock()
	rs, err := x.opts.Erasures.CompletedSince(ctx, since, followLimit)
	if err != nil {
		return err // read again from the same point at the next walk
	}
	x.mu.Lock()
	if len(rs) >= followLimit {
		x.stale[""] = true
	}
	var es []erasure
	for _, r := range rs {
		if _, done := x.followedIDs[r.ID]; done || r.FinishedAt == nil {
			continue
		}
		x.followedIDs[r.ID] = *r.FinishedAt
		es = append(es, erasure{tenant: r.Tenant, subject: r.Subject})
	}
	changed := x.ended(es...)
	for id, at := range x.followedIDs {
		if at.Before(since) {
			delete(x.followedIDs, id)
		}
	}
	x.followed = now
	x.mu.Unlock()
	for _, t := range changed {
		x.publish(t)
	}
	return nil
}

// Len returns the number of people known for tenant.
func (x *Index) Len(tenant string) int {
	x.mu.Lock()
	defer x.mu.Unlock()
	if d := x.dict[tenant]; d != nil {
		return len(d.people)
	}
	return 0
}

var _ dsr.EndObserver = (*Index)(nil)
