package registry

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// MongoID is the key field of every MongoDB document, a mongo collection's
// primary key unless the file names another.
const MongoID = "_id"

// checkMongoStore checks the fields of a mongo store, and that other kinds
// do not set them.
func checkMongoStore(p *problems, at []string, s *Store, fs *fileStore) {
	if s.Kind != KindMongo {
		for field, v := range map[string]string{"uri_env": fs.URIEnv, "database": fs.Database} {
			if v != "" {
				p.add(append(at, field), "not used by a %s store: remove it", s.Kind)
			}
		}
		return
	}
	if s.URIEnv == "" {
		p.add(append(at, "uri_env"), "required for a mongo store: name the environment variable that holds the mongodb:// URI")
	} else if !envRE.MatchString(s.URIEnv) {
		p.add(append(at, "uri_env"), "%q is not an environment variable name: name the variable, never put the value in the file", s.URIEnv)
	}
	if s.Database == "" {
		p.add(append(at, "database"), "required for a mongo store: name the database that holds the collections, such as LibreChat")
	} else if strings.ContainsAny(s.Database, "/\\. \"$\x00") {
		p.add(append(at, "database"), "%q is not a MongoDB database name: no /, \\, ., space, \" or $", s.Database)
	}
}

// checkMongoCollection refuses what a mongo collection does not offer.
func checkMongoCollection(p *problems, at []string, r *Registry, c *Collection) {
	if r.Stores[c.Store].Kind != KindMongo {
		return
	}
	if strings.HasPrefix(c.Table, "system.") || strings.ContainsAny(c.Table, "$\x00") || c.Table == "" {
		p.add(append(at, "table"), "%q is not a collection name", c.Table)
	}
	for _, col := range c.Columns() {
		if strings.HasPrefix(col, "$") || strings.Contains(col, ".") {
			p.add(at, "%q is not a top-level field name: a field starts with a letter or _ and holds no dot (declare nested fields as json paths)", col)
		}
	}
	if len(c.PrimaryKey) != 1 || c.PrimaryKey[0] != MongoID {
		p.add(append(at, "primary_key"), "a mongo collection is keyed by _id: remove primary_key")
	}
	if ret := c.Retention; ret != nil {
		ret.Stored = TimeNative
		if ret.Unit != "" {
			ret.Stored = TimeEpoch
		}
	}
}

// MongoStores returns the names of the mongo stores, sorted.
func (r *Registry) MongoStores() []string { return r.storesOf(KindMongo) }

// CollectionStores returns the names of the stores that hold collections
// (sql and mongo), sorted: those the engine needs a connector.Store for.
func (r *Registry) CollectionStores() []string {
	out := append(r.SQLStores(), r.MongoStores()...)
	sort.Strings(out)
	return out
}

func (r *Registry) storesOf(kind string) []string {
	var out []string
	for name, s := range r.Stores {
		if s.Kind == kind {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// DocumentReader reads what CheckLive needs of a live mongo database; the
// mongo connector implements it.
type DocumentReader interface {
	// CollectionExists reports whether the database has collection name.
	CollectionExists(ctx context.Context, name string) (bool, error)
	// Indexes returns the indexes of collection name; Columns are the
	// indexed fields in order.
	Indexes(ctx context.Context, name string) ([]Index, error)
	// Sample returns up to limit non-null values of field in collection
	// name, as the driver decodes them.
	Sample(ctx context.Context, name, field string, limit int) ([]any, error)
}

// CheckLiveDocuments compares the mongo collections of r with their live
// databases, given by store name: a collection that does not exist, and a
// retention rule whose epoch unit the sampled values doubt, are problems
// (a *ValidationError); an identity, tenant or reference field that no
// index leads is a warning with the createIndex to run. A mongo store
// missing from docs is a problem; a failing reader is an error naming the
// store. Call it after CheckLive, before r is shared.
func (r *Registry) CheckLiveDocuments(ctx context.Context, docs map[string]DocumentReader) (warnings []Problem, err error) {
	p := &problems{file: "lethe.yaml"}
	for _, c := range r.order {
		if r.Stores[c.Store].Kind != KindMongo {
			continue
		}
		s, ok := docs[c.Store]
		if !ok {
			p.add([]string{"stores", c.Store}, "no connection to this store")
			continue
		}
		at := []string{"collections", c.Key}
		exists, err := s.CollectionExists(ctx, c.Table)
		if err != nil {
			return nil, fmt.Errorf("registry: check %s: %w", c.Key, err)
		}
		if !exists {
			p.add(append(at, "table"), "collection %q does not exist in database %s of store %s: create it or fix the name", c.Table, r.Stores[c.Store].Database, c.Store)
			continue
		}
		idx, err := s.Indexes(ctx, c.Table)
		if err != nil {
			return nil, fmt.Errorf("registry: check %s: %w", c.Key, err)
		}
		warnings = append(warnings, mongoIndexWarnings(c, idx)...)
		if ret := c.Retention; ret != nil && ret.Unit != "" {
			vals, err := s.Sample(ctx, c.Table, ret.Timestamp, epochSample)
			if err != nil {
				return nil, fmt.Errorf("registry: check %s: %w", c.Key, err)
			}
			if msg := doubtUnit(vals, ret.Unit, time.Now()); msg != "" {
				p.add(append(at, "retention", "timestamp", "unit"), "field %q %s", ret.Timestamp, msg)
			}
		}
	}
	sortProblems(p.list)
	if err := p.err(); err != nil {
		return warnings, err
	}
	return warnings, r.seal()
}

// mongoIndexWarnings warns for each identity, tenant and reference field
// of c that no index leads, with the mongosh command that adds one.
func mongoIndexWarnings(c *Collection, idx []Index) []Problem {
	leads := func(field string) bool {
		for _, ix := range idx {
			if len(ix.Columns) > 0 && ix.Columns[0] == field {
				return true
			}
		}
		return false
	}
	var out []Problem
	warn := func(path []string, field, why string) {
		out = append(out, Problem{File: "lethe.yaml", Path: strings.Join(path, "."), Message: fmt.Sprintf(
			"warning: %s %q of collection %q has no index: erasure would scan the collection; run: db.getCollection(%s).createIndex({%s: 1})",
			why, field, c.Table, strconv.Quote(c.Table), strconv.Quote(field))})
	}
	for _, f := range c.Email {
		if !leads(f) {
			warn([]string{"collections", c.Key, "identity", "email"}, f, "identity field")
		}
	}
	if c.Tenant != "" && !leads(c.Tenant) {
		warn([]string{"collections", c.Key, "tenant"}, c.Tenant, "tenant field")
	}
	for _, ref := range c.References {
		if !leads(ref.Column) {
			warn([]string{"collections", c.Key, "references", ref.Column}, ref.Column, "reference field")
		}
	}
	return out
}

// MongoIndexes lists, for lethe config check, each mongo collection's
// indexes as read by CheckLiveDocuments' reader, one line per collection.
func MongoIndexes(ctx context.Context, r *Registry, docs map[string]DocumentReader) ([]string, error) {
	var out []string
	for _, c := range r.order {
		s, ok := docs[c.Store]
		if !ok || r.Stores[c.Store].Kind != KindMongo {
			continue
		}
		idx, err := s.Indexes(ctx, c.Table)
		if err != nil {
			return nil, fmt.Errorf("registry: indexes of %s: %w", c.Key, err)
		}
		var names []string
		for _, ix := range idx {
			names = append(names, ix.Name+" ("+strings.Join(ix.Columns, ", ")+")")
		}
		if len(names) == 0 {
			names = []string{"none"}
		}
		out = append(out, fmt.Sprintf("collections.%s: indexes %s", c.Key, strings.Join(names, ", ")))
	}
	return out, nil
}
