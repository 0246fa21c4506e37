package mongostore

import (
	"context"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/retention"
)

// Delete deletes up to limit documents that sel selects and returns how
// many it deleted: their _ids are read first (only the _ids); a full batch
// is then deleted by _id together with sel's filter, so a document changed
// in between is left alone, and a short one (every document sel selects)
// by sel's filter alone. With ahead, the _ids are read in _id order and
// told to ahead before the delete. (A document that comes to match between
// the read and a short batch's delete is deleted too, outside the batch
// told to ahead.)
func (s *Store) Delete(ctx context.Context, sel connector.Selection, limit int, ahead connector.Ahead) (int64, error) {
	var sort bson.D
	if ahead != nil {
		sort = bson.D{{Key: registry.MongoID, Value: 1}}
	}
	n, _, err := s.purge(ctx, sel, nil, nil, limit, sort, ahead)
	return n, err
}

// Purge deletes up to limit documents that sel selects, oldest first by
// sel.Older's field when set, and returns how many and, per document, the
// values of cols (a time.Time for a date, an int64 for an integer, a
// string otherwise; nil when missing), followed with via by its tenant
// read from its parents (tenantOf: one lookup per hop and parent). It
// implements retention.Store.
func (s *Store) Purge(ctx context.Context, sel connector.Selection, cols []string, via []retention.TenantHop, limit int) (int64, [][]any, error) {
	sort := bson.D{{Key: registry.MongoID, Value: 1}}
	if sel.Older != nil {
		sort = bson.D{{Key: sel.Older.Column, Value: 1}, {Key: registry.MongoID, Value: 1}}
	}
	return s.purge(ctx, sel, cols, via, limit, sort, nil)
}

func (s *Store) purge(ctx context.Context, sel connector.Selection, cols []string, via []retention.TenantHop, limit int, sort bson.D, ahead connector.Ahead) (int64, [][]any, error) {
	c := sel.Collection
	if sel.All && sel.Older == nil && sel.Tenant == "" {
		return 0, nil, fmt.Errorf("collection %s: a selection of every document needs a cutoff or a tenant", c.Key)
	}
	coll := s.db.Collection(c.Table)
	f, err := s.filter(ctx, sel)
	if err != nil {
		return 0, nil, s.fail(ctx, "delete", c.Key, err)
	}
	read := cols
	if len(via) > 0 {
		read = append(append([]string(nil), cols...), tenantFields(c, via)...)
	}
	opts := options.Find().SetLimit(int64(limit)).SetProjection(projection(read))
	if sort != nil {
		opts.SetSort(sort)
	}
	cur, err := coll.Find(ctx, f, opts)
	if err != nil {
		return 0, nil, s.fail(ctx, "delete", c.Key, err)
	}
	ids := bson.A{}
	var vals [][]any
	tenants := s.tenantCache(c, via)
	for cur.Next(ctx) {
		ids = append(ids, cur.Current.Lookup(registry.MongoID))
		if cols != nil || len(via) > 0 {
			row := make([]any, len(cols), len(cols)+1)
			for i, col := range cols {
				row[i] = plain(cur.Current.Lookup(col))
			}
			if len(via) > 0 {
				tenant, err := tenants.of(ctx, cur.Current)
				if err != nil {
					cur.Close(ctx)
					return 0, nil, s.fail(ctx, "delete", c.Key, err)
				}
				row = append(row, orNil(tenant))
			}
			vals = append(vals, row)
		}
	}
	err = cur.Err()
	cur.Close(ctx)
	if err != nil {
		return 0, nil, s.fail(ctx, "delete", c.Key, err)
	}
	if len(ids) == 0 {
		return 0, nil, nil
	}
	if ahead != nil {
		last, _ := keyOf(ids[len(ids)-1].(bson.RawValue))
		if err := ahead(last, int64(len(ids))); err != nil {
			return 0, nil, err
		}
	}
	if len(ids) == limit || vals != nil {
		// A full batch (or one whose values were read) is deleted by _id,
		// still under sel's filter; a short one is all that sel selects,
		// deleted by the filter alone, without a long $in.
		f = bson.D{{Key: "$and", Value: bson.A{bson.D{{Key: registry.MongoID, Value: bson.D{{Key: "$in", Value: ids}}}}, f}}}
	}
	res, err := coll.DeleteMany(ctx, f)
	if err != nil {
		return 0, nil, s.fail(ctx, "delete", c.Key, err)
	}
	return res.DeletedCount, vals, nil
}

// orNil is tenant, or nil for "" (no tenant), as a driver returns NULL.
func orNil(tenant string) any {
	if tenant == "" {
		return nil
	}
	return tenant
}

// plain returns a value as a driver would: time.Time, int64, float64,
// string, or its key text; nil when missing or null.
func plain(v bson.RawValue) any {
	switch v.Type {
	case 0, bson.TypeNull, bson.TypeUndefined:
		return nil
	case bson.TypeDateTime:
		return v.Time().UTC()
	case bson.TypeInt32, bson.TypeInt64:
		n, _ := v.AsInt64OK()
		return n
	case bson.TypeDouble:
		return v.Double()
	}
	k, _ := keyOf(v)
	return k
}

// Anonymize rewrites up to limit documents that sel selects after the key
// *after, in _id order: a.Set fields are set alike, each a.Rewrite field
// is read and written back as a.Edit returns it (a string stays a string;
// a document or array comes back as canonical Extended JSON and is stored
// with its BSON types). With a.Rewrite, each document is one update by
// _id; without, the batch is one updateMany over its _id range under
// sel's filter (a server that cannot seek an _id, such as FerretDB on
// SQLite, scans the collection once per batch rather than once per
// document). MongoDB makes each document's update atomic, and the engine
// journals the last key so a resumed run continues after it. ahead, when
// set, is told of the documents read before any is written.
func (s *Store) Anonymize(ctx context.Context, sel connector.Selection, a connector.Anonymization, afterKey *string, limit int, ahead connector.Ahead) (int64, string, error) {
	n, last, _, err := s.anonymize(ctx, retention.Tally{Sel: sel}, a, afterKey, limit, ahead)
	return n, last, err
}

// AnonymizeTally implements retention.Store: Anonymize of t.Sel's
// documents that reads each one's tenant with it (its t.By field, or
// through t.Via with tenantOf) and counts them per tenant.
func (s *Store) AnonymizeTally(ctx context.Context, t retention.Tally, a connector.Anonymization, afterKey *string, limit int) ([]retention.TallyGroup, string, error) {
	_, last, tenants, err := s.anonymize(ctx, t, a, afterKey, limit, nil)
	if err != nil {
		return nil, "", err
	}
	return retention.GroupValues(tenants), last, nil
}

// anonymize is Anonymize of t.Sel's documents that also returns, per
// document rewritten, its tenant as t.By or t.Via read it before the
// rewrite (nil for none, and without them).
func (s *Store) anonymize(ctx context.Context, t retention.Tally, a connector.Anonymization, afterKey *string, limit int, ahead connector.Ahead) (int64, string, []any, error) {
	c := t.Sel.Collection
	f, err := s.filter(ctx, t.Sel)
	if err != nil {
		return 0, "", nil, s.fail(ctx, "anonymize", c.Key, err)
	}
	read := a.Rewrite
	switch {
	case t.By != "":
		read = append(append([]string(nil), a.Rewrite...), t.By)
	case len(t.Via) > 0:
		read = append(append([]string(nil), a.Rewrite...), tenantFields(c, t.Via)...)
	}
	var models []mongo.WriteModel
	var first, lastID bson.RawValue
	var last string
	var tenants []any
	cache := s.tenantCache(c, t.Via)
	err = s.pageWhere(ctx, c, f, read, afterKey, limit, func(doc bson.Raw) error {
		switch {
		case t.By != "":
			tenants = append(tenants, plain(doc.Lookup(t.By)))
		case len(t.Via) > 0:
			tenant, err := cache.of(ctx, doc)
			if err != nil {
				return err
			}
			tenants = append(tenants, orNil(tenant))
		default:
			tenants = append(tenants, nil)
		}
		id := doc.Lookup(registry.MongoID)
		if len(models) == 0 {
			first = id
		}
		lastID = id
		last, _ = keyOf(id)
		set, err := rewrite(doc, a)
		if err != nil {
			return fmt.Errorf("collection %s: %w", c.Key, err)
		}
		models = append(models, mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: registry.MongoID, Value: id}}).
			SetUpdate(bson.D{{Key: "$set", Value: set}}))
		return nil
	})
	if err != nil || len(models) == 0 {
		return 0, "", nil, err
	}
	if ahead != nil {
		if err := ahead(last, int64(len(models))); err != nil {
			return 0, "", nil, err
		}
	}
	coll := s.db.Collection(c.Table)
	if len(a.Rewrite) == 0 && first.Type == lastID.Type {
		set, _ := rewrite(nil, a)
		span := bson.D{{Key: registry.MongoID, Value: bson.D{{Key: "$gte", Value: first}, {Key: "$lte", Value: lastID}}}}
		_, err = coll.UpdateMany(ctx, bson.D{{Key: "$and", Value: bson.A{f, span}}}, bson.D{{Key: "$set", Value: set}})
	} else {
		_, err = coll.BulkWrite(ctx, models)
	}
	if err != nil {
		return 0, "", nil, s.fail(ctx, "anonymize", c.Key, err)
	}
	return int64(len(models)), last, tenants, nil
}

// rewrite returns the $set of one document.
func rewrite(doc bson.Raw, a connector.Anonymization) (bson.D, error) {
	set := bson.D{}
	for col, v := range a.Set {
		if v == nil {
			set = append(set, bson.E{Key: col, Value: nil})
		} else {
			set = append(set, bson.E{Key: col, Value: *v})
		}
	}
	for _, col := range a.Rewrite {
		old := doc.Lookup(col)
		nv, err := a.Edit(col, fieldText(old))
		if err != nil {
			return nil, err
		}
		v, err := written(col, old, nv)
		if err != nil {
			return nil, err
		}
		set = append(set, bson.E{Key: col, Value: v})
	}
	return set, nil
}

// written returns the value stored for the rewritten text nv of a field
// that held old: a string stays a string; a document or array comes back
// as canonical Extended JSON and keeps its BSON types and field order.
func written(col string, old bson.RawValue, nv *string) (any, error) {
	switch {
	case nv == nil:
		return nil, nil
	case old.Type == bson.TypeString:
		return *nv, nil
	}
	v, err := fromExtJSON(*nv)
	if err != nil {
		return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "field %s: the rewritten value is not Extended JSON", col)
	}
	return inOrder(old, v), nil
}

// inOrder puts the fields of the rewritten documents inside v back in the
// order they had in old (the rewrite goes through JSON objects, which
// have none), recursively; fields old lacks come last.
func inOrder(old bson.RawValue, v any) any {
	switch x := v.(type) {
	case bson.D:
		doc, ok := old.DocumentOK()
		if !ok {
			return v
		}
		elems, _ := doc.Elements()
		rank := make(map[string]int, len(elems))
		for i, e := range elems {
			rank[e.Key()] = i
		}
		pos := func(k string) int {
			if r, ok := rank[k]; ok {
				return r
			}
			return len(elems)
		}
		slices.SortStableFunc(x, func(a, b bson.E) int { return pos(a.Key) - pos(b.Key) })
		for i := range x {
			x[i].Value = inOrder(doc.Lookup(x[i].Key), x[i].Value)
		}
	case bson.A:
		arr, ok := old.ArrayOK()
		if !ok {
			return v
		}
		vals, _ := arr.Values()
		for i := range x {
			if i < len(vals) {
				x[i] = inOrder(vals[i], x[i])
			}
		}
	}
	return v
}
