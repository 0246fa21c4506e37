package mongostore

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// Count returns how many documents each selection selects, one count
// command per selection (MongoDB has no multi-count).
func (s *Store) Count(ctx context.Context, sels []connector.Selection) ([]int64, error) {
	out := make([]int64, len(sels))
	for i, sel := range sels {
		f, err := s.filter(ctx, sel)
		if err != nil {
			return nil, s.fail(ctx, "count", sel.Collection.Key, err)
		}
		n, err := s.db.Collection(sel.Collection.Table).CountDocuments(ctx, f)
		if err != nil {
			return nil, s.fail(ctx, "count", sel.Collection.Key, err)
		}
		out[i] = n
	}
	return out, nil
}

// Values returns up to limit distinct non-null keys of field cols[0] in the
// documents sel selects, in MongoDB's sort order, after the key *after:
// grouped in the server, so only the keys travel. Errors: more than one
// field (a mongo collection's key is _id).
func (s *Store) Values(ctx context.Context, sel connector.Selection, cols []string, afterKey *string, limit int) ([]string, error) {
	c := sel.Collection
	if len(cols) != 1 {
		return nil, fmt.Errorf("collection %s: values of %d fields: a mongo store reads one at a time", c.Key, len(cols))
	}
	col := cols[0]
	coll := s.db.Collection(c.Table)
	f, err := s.filter(ctx, sel)
	if err != nil {
		return nil, s.fail(ctx, "read", c.Key, err)
	}
	and := bson.A{f, bson.D{{Key: col, Value: bson.D{{Key: "$exists", Value: true}, {Key: "$ne", Value: nil}}}}}
	if afterKey != nil {
		a, err := after(ctx, coll, col, *afterKey)
		if err != nil {
			return nil, s.fail(ctx, "read", c.Key, err)
		}
		and = append(and, a)
	}
	pipeline := mongo.Pipeline{
		{{Key: "$match", Value: bson.D{{Key: "$and", Value: and}}}},
		{{Key: "$group", Value: bson.D{{Key: registry.MongoID, Value: "$" + col}}}},
		{{Key: "$sort", Value: bson.D{{Key: registry.MongoID, Value: 1}}}},
		{{Key: "$limit", Value: int64(limit)}},
	}
	cur, err := coll.Aggregate(ctx, pipeline)
	if err != nil {
		return nil, s.fail(ctx, "read", c.Key, err)
	}
	defer cur.Close(ctx)
	var out []string
	for cur.Next(ctx) {
		if k, ok := keyOf(cur.Current.Lookup(registry.MongoID)); ok {
			out = append(out, k)
		}
	}
	if err := cur.Err(); err != nil {
		return nil, s.fail(ctx, "read", c.Key, err)
	}
	return out, nil
}

// Rows returns up to limit documents sel selects in _id order, after the
// key *after, with the fields cols: a string as it is, any other value as
// canonical Extended JSON (what Anonymize's Edit reads and writes back).
func (s *Store) Rows(ctx context.Context, sel connector.Selection, cols []string, afterKey *string, limit int) ([]connector.Row, error) {
	var out []connector.Row
	err := s.page(ctx, sel, cols, afterKey, limit, func(doc bson.Raw) error {
		row := connector.Row{Values: make([]*string, len(cols))}
		row.Key, _ = keyOf(doc.Lookup(registry.MongoID))
		for i, col := range cols {
			row.Values[i] = fieldText(doc.Lookup(col))
		}
		out = append(out, row)
		return nil
	})
	return out, err
}

// page calls fn for up to limit documents sel selects, in _id order after
// the key *after, with _id and the fields cols (every field when cols is
// nil).
func (s *Store) page(ctx context.Context, sel connector.Selection, cols []string, afterKey *string, limit int, fn func(bson.Raw) error) error {
	f, err := s.filter(ctx, sel)
	if err != nil {
		return s.fail(ctx, "read", sel.Collection.Key, err)
	}
	return s.pageWhere(ctx, sel.Collection, f, cols, afterKey, limit, fn)
}

// pageWhere is page over the documents of c that filter f selects.
func (s *Store) pageWhere(ctx context.Context, c *registry.Collection, f bson.D, cols []string, afterKey *string, limit int, fn func(bson.Raw) error) error {
	coll := s.db.Collection(c.Table)
	if afterKey != nil {
		a, err := after(ctx, coll, registry.MongoID, *afterKey)
		if err != nil {
			return s.fail(ctx, "read", c.Key, err)
		}
		f = bson.D{{Key: "$and", Value: bson.A{f, a}}}
	}
	opts := options.Find().SetSort(bson.D{{Key: registry.MongoID, Value: 1}})
	if limit > 0 {
		opts.SetLimit(int64(limit))
	}
	if cols != nil {
		opts.SetProjection(projection(cols))
	}
	cur, err := coll.Find(ctx, f, opts)
	if err != nil {
		return s.fail(ctx, "read", c.Key, err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		if err := fn(cur.Current); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return s.fail(ctx, "read", c.Key, err)
	}
	return nil
}

func projection(cols []string) bson.D {
	p := bson.D{{Key: registry.MongoID, Value: 1}}
	for _, col := range cols {
		if col != registry.MongoID {
			p = append(p, bson.E{Key: col, Value: 1})
		}
	}
	return p
}

// fieldText returns a field's value as Rows gives it; nil when missing or
// null.
func fieldText(v bson.RawValue) *string {
	switch v.Type {
	case 0, bson.TypeNull, bson.TypeUndefined:
		return nil
	case bson.TypeString:
		s := v.StringValue()
		return &s
	}
	s := extJSON(v, true)
	return &s
}

// Stream calls fn for each document sel selects, in _id order, as two
// columns: its _id key and the whole document as relaxed Extended JSON v2
// (dates as {"$date": …}, ObjectIds as {"$oid": …}), which the access
// package embeds as a JSON document.
func (s *Store) Stream(ctx context.Context, sel connector.Selection, fn func(columns []string, values []any) error) error {
	cols := []string{registry.MongoID, "document"}
	return s.page(ctx, sel, nil, nil, 0, func(doc bson.Raw) error {
		key, _ := keyOf(doc.Lookup(registry.MongoID))
		text, err := bson.MarshalExtJSON(doc, false, false)
		if err != nil {
			return fmt.Errorf("export %s: %w", sel.Collection.Key, err)
		}
		return fn(cols, []any{key, string(text)})
	})
}
