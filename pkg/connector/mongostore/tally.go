package mongostore

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/retention"
)

// Tally counts each tally's documents grouped in the server by its By
// field (MongoDB has no multi-count): one aggregation for the documents
// and one per file field for those whose field is neither missing, null
// nor "" (FerretDB has no $cond to do it in one). Only the groups travel.
// A group's Value is the field's value as Purge returns it. With Via, the
// documents are grouped by the fields that lead to their parent, and each
// group's tenant is then read as Purge reads it (tenantOf), once per
// parent.
func (s *Store) Tally(ctx context.Context, ts []retention.Tally) ([][]retention.TallyGroup, error) {
	out := make([][]retention.TallyGroup, len(ts))
	for i, t := range ts {
		c := t.Sel.Collection
		f, err := s.filter(ctx, t.Sel)
		if err != nil {
			return nil, s.fail(ctx, "count", c.Key, err)
		}
		key := groupKey(c, t)
		at := map[string]int{}   // group value (raw) → index in out[i]
		byValue := map[any]int{} // tenant → index in out[i]
		err = s.group(ctx, c, f, key, func(v bson.RawValue, n int64) error {
			value, err := s.groupValue(ctx, c, t, v)
			if err != nil {
				return err
			}
			j, ok := byValue[value]
			if !ok {
				j = len(out[i])
				byValue[value] = j
				out[i] = append(out[i], retention.TallyGroup{Value: value})
			}
			at[string(v.Type)+string(v.Value)] = j
			out[i][j].Rows += n
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, col := range t.Files {
			has := bson.D{{Key: "$and", Value: bson.A{f, bson.D{{Key: col, Value: bson.D{{Key: "$nin", Value: bson.A{nil, ""}}}}}}}}
			err := s.group(ctx, c, has, key, func(v bson.RawValue, n int64) error {
				if j, ok := at[string(v.Type)+string(v.Value)]; ok {
					out[i][j].Files += n
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
		if t.By == "" && len(t.Via) == 0 && len(out[i]) == 0 {
			out[i] = []retention.TallyGroup{{}}
		}
	}
	return out, nil
}

// groupKey is the $group _id of tally t's documents of c: null (one
// group), its By field, or a document of the fields tenantOf reads
// through Via, each under its own name.
func groupKey(c *registry.Collection, t retention.Tally) any {
	switch {
	case t.By != "":
		return "$" + t.By
	case len(t.Via) > 0:
		key := bson.D{}
		for _, f := range tenantFields(c, t.Via) {
			key = append(key, bson.E{Key: f, Value: "$" + f})
		}
		return key
	}
	return nil
}

// groupValue is the Value of the group of tally t whose _id is v: the By
// field's value, the tenant tenantOf reads from the fields in v through
// Via (nil for none), or nil.
func (s *Store) groupValue(ctx context.Context, c *registry.Collection, t retention.Tally, v bson.RawValue) (any, error) {
	switch {
	case t.By != "":
		return plain(v), nil
	case len(t.Via) > 0:
		doc, _ := v.DocumentOK()
		tenant, err := s.tenantOf(ctx, c, doc, t.Via)
		if err != nil {
			return nil, s.fail(ctx, "count", c.Key, err)
		}
		return orNil(tenant), nil
	}
	return nil, nil
}

// group calls fn with each _id of the groups by key (see groupKey) of the
// documents of c that f selects, and how many are in it.
func (s *Store) group(ctx context.Context, c *registry.Collection, f bson.D, key any, fn func(v bson.RawValue, n int64) error) error {
	cur, err := s.db.Collection(c.Table).Aggregate(ctx, mongo.Pipeline{
		{{Key: "$match", Value: f}},
		{{Key: "$group", Value: bson.D{{Key: registry.MongoID, Value: key}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
	})
	if err != nil {
		return s.fail(ctx, "count", c.Key, err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		n, _ := cur.Current.Lookup("n").AsInt64OK()
		if err := fn(cur.Current.Lookup(registry.MongoID), n); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return s.fail(ctx, "count", c.Key, err)
	}
	return nil
}
