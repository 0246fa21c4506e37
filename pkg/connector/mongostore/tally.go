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
// A group's Value is the field's value as Purge returns it.
func (s *Store) Tally(ctx context.Context, ts []retention.Tally) ([][]retention.TallyGroup, error) {
	out := make([][]retention.TallyGroup, len(ts))
	for i, t := range ts {
		c := t.Sel.Collection
		f, err := s.filter(ctx, t.Sel)
		if err != nil {
			return nil, s.fail(ctx, "count", c.Key, err)
		}
		at := map[string]int{} // group value (raw) → index in out[i]
		err = s.group(ctx, c, f, t.By, func(v bson.RawValue, n int64) {
			at[string(v.Type)+string(v.Value)] = len(out[i])
			g := retention.TallyGroup{Rows: n}
			if t.By != "" {
				g.Value = plain(v)
			}
			out[i] = append(out[i], g)
		})
		if err != nil {
			return nil, err
		}
		for _, col := range t.Files {
			has := bson.D{{Key: "$and", Value: bson.A{f, bson.D{{Key: col, Value: bson.D{{Key: "$nin", Value: bson.A{nil, ""}}}}}}}}
			err := s.group(ctx, c, has, t.By, func(v bson.RawValue, n int64) {
				if j, ok := at[string(v.Type)+string(v.Value)]; ok {
					out[i][j].Files += n
				}
			})
			if err != nil {
				return nil, err
			}
		}
		if t.By == "" && len(out[i]) == 0 {
			out[i] = []retention.TallyGroup{{}}
		}
	}
	return out, nil
}

// group calls fn with each value of field by ("": one group, null) in the
// documents of c that f selects, and how many hold it.
func (s *Store) group(ctx context.Context, c *registry.Collection, f bson.D, by string, fn func(v bson.RawValue, n int64)) error {
	var key any // null: one group
	if by != "" {
		key = "$" + by
	}
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
		fn(cur.Current.Lookup(registry.MongoID), n)
	}
	if err := cur.Err(); err != nil {
		return s.fail(ctx, "count", c.Key, err)
	}
	return nil
}
