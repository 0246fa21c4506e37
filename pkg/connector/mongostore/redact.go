package mongostore

import (
	"context"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/retention"
)

// Rewrite implements retention.Store for the redact action: it reads up to
// limit documents sel selects after the key *after, in _id order, with the
// fields rw.Columns and each document's tenant, and sets, one update per
// document by _id and the old value of each field it rewrites, the fields
// rw.Edit changed (nothing on a dry run): a document edited since it was
// read is left as its editor wrote it, not counted, and redacted by the
// next run, as the sql store's row lock keeps an edit from being lost. Edit
// reads a string field as it is, and a document or array field of a
// collection that declares paths in it as canonical Extended JSON, which
// is written back with its BSON types; other values (numbers, dates,
// ObjectIds, and documents without declared paths) are left alone, as the
// sql store leaves columns that are not text. Each update is atomic; a
// batch cut short is finished by the next run from the journaled key.
func (s *Store) Rewrite(ctx context.Context, sel connector.Selection, rw retention.Rewrite, afterKey *string, limit int) (int64, int64, string, error) {
	c := sel.Collection
	cols := append(append([]string(nil), rw.Columns...), tenantFields(c, rw.TenantPath)...)
	var models []mongo.WriteModel
	var read int64
	var last string
	tenants := s.tenantCache(c, rw.TenantPath)
	err := s.page(ctx, sel, cols, afterKey, limit, func(doc bson.Raw) error {
		read++
		id := doc.Lookup(registry.MongoID)
		last, _ = keyOf(id)
		tenant, err := tenants.of(ctx, doc)
		if err != nil {
			return err
		}
		set, filter := bson.D{}, bson.D{{Key: registry.MongoID, Value: id}}
		for _, col := range rw.Columns {
			old := doc.Lookup(col)
			if _, paths := c.JSON[col]; old.Type != bson.TypeString &&
				(!paths || (old.Type != bson.TypeEmbeddedDocument && old.Type != bson.TypeArray)) {
				continue
			}
			text := fieldText(old)
			out, changed, err := rw.Edit(tenant, col, *text)
			if err != nil {
				return err
			}
			if !changed || out == *text {
				continue
			}
			v, err := written(col, old, &out)
			if err != nil {
				return err
			}
			set = append(set, bson.E{Key: col, Value: v})
			filter = append(filter, bson.E{Key: col, Value: old})
		}
		if len(set) > 0 {
			models = append(models, mongo.NewUpdateOneModel().SetFilter(filter).
				SetUpdate(bson.D{{Key: "$set", Value: set}}))
		}
		return nil
	})
	if err != nil {
		return 0, 0, "", s.fail(ctx, "redact", c.Key, err)
	}
	changed := int64(len(models))
	if len(models) > 0 && !rw.DryRun {
		res, err := s.db.Collection(c.Table).BulkWrite(ctx, models)
		if err != nil {
			return 0, 0, "", s.fail(ctx, "redact", c.Key, err)
		}
		changed = res.MatchedCount
	}
	return read, changed, last, nil
}

// tenantFields are the fields of a document of c that tenantOf reads: c's
// tenant field, or the first hop of path's and those of its conditions.
func tenantFields(c *registry.Collection, path []retention.TenantHop) []string {
	if c.Tenant != "" {
		return []string{c.Tenant}
	}
	if len(path) == 0 {
		return nil
	}
	out := []string{path[0].Column}
	for _, w := range path[0].Where {
		out = append(out, w.Column)
	}
	return out
}

// tenantCache reads the tenants of documents of c through path (tenantOf)
// once per parent: documents that name the same parent, with the same
// values of the fields tenantOf reads, share its tenant. One lives for a
// batch.
type tenantCache struct {
	s    *Store
	c    *registry.Collection
	path []retention.TenantHop
	seen map[string]string
}

func (s *Store) tenantCache(c *registry.Collection, path []retention.TenantHop) *tenantCache {
	return &tenantCache{s: s, c: c, path: path, seen: map[string]string{}}
}

// of returns doc's tenant as tenantOf does.
func (t *tenantCache) of(ctx context.Context, doc bson.Raw) (string, error) {
	var key strings.Builder
	for _, f := range tenantFields(t.c, t.path) {
		v := doc.Lookup(f)
		fmt.Fprintf(&key, "%d:%d:%s", v.Type, len(v.Value), v.Value)
	}
	if tenant, ok := t.seen[key.String()]; ok {
		return tenant, nil
	}
	tenant, err := t.s.tenantOf(ctx, t.c, doc, t.path)
	if err == nil {
		t.seen[key.String()] = tenant
	}
	return tenant, err
}

// tenantOf returns the tenant of doc, a document of c: its own tenant
// field, or the one found by following path from parent to parent (one
// lookup by the parent's field per hop); "" when it has none.
func (s *Store) tenantOf(ctx context.Context, c *registry.Collection, doc bson.Raw, path []retention.TenantHop) (string, error) {
	if c.Tenant != "" {
		k, _ := keyOf(doc.Lookup(c.Tenant))
		return k, nil
	}
	for i, hop := range path {
		for _, w := range hop.Where {
			if k, _ := keyOf(doc.Lookup(w.Column)); k != w.Value {
				return "", nil
			}
		}
		key, ok := keyOf(doc.Lookup(hop.Column))
		if !ok {
			return "", nil
		}
		next := path[i+1:]
		proj := bson.D{{Key: hop.ParentColumn, Value: 1}}
		if hop.Parent.Tenant != "" {
			proj = append(proj, bson.E{Key: hop.Parent.Tenant, Value: 1})
		}
		if len(next) > 0 {
			proj = append(proj, bson.E{Key: next[0].Column, Value: 1})
			for _, w := range next[0].Where {
				proj = append(proj, bson.E{Key: w.Column, Value: 1})
			}
		}
		raw, err := s.db.Collection(hop.Parent.Table).FindOne(ctx,
			bson.D{{Key: hop.ParentColumn, Value: bson.D{{Key: "$in", Value: inValues([]string{key})}}}},
			options.FindOne().SetProjection(proj)).Raw()
		if err == mongo.ErrNoDocuments {
			return "", nil
		} else if err != nil {
			return "", err
		}
		if hop.Parent.Tenant != "" {
			k, _ := keyOf(raw.Lookup(hop.Parent.Tenant))
			return k, nil
		}
		doc = raw
	}
	return "", nil
}
