package mongostore

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/lethe-privacy/lethe/pkg/registry"
)

var _ registry.DocumentReader = (*Store)(nil)

// CollectionExists reports whether the database has collection name.
func (s *Store) CollectionExists(ctx context.Context, name string) (bool, error) {
	names, err := s.db.ListCollectionNames(ctx, bson.D{{Key: "name", Value: name}})
	if err != nil {
		return false, s.fail(ctx, "list collections", name, err)
	}
	return len(names) > 0, nil
}

// Indexes returns the indexes of collection name, read with listIndexes.
func (s *Store) Indexes(ctx context.Context, name string) ([]registry.Index, error) {
	cur, err := s.db.Collection(name).Indexes().List(ctx)
	if err != nil {
		return nil, s.fail(ctx, "list indexes", name, err)
	}
	defer cur.Close(ctx)
	var out []registry.Index
	for cur.Next(ctx) {
		var spec struct {
			Name string `bson:"name"`
			Key  bson.D `bson:"key"`
		}
		if err := cur.Decode(&spec); err != nil {
			return nil, s.fail(ctx, "list indexes", name, err)
		}
		ix := registry.Index{Name: spec.Name}
		for _, k := range spec.Key {
			ix.Columns = append(ix.Columns, k.Key)
		}
		out = append(out, ix)
	}
	if err := cur.Err(); err != nil {
		return nil, s.fail(ctx, "list indexes", name, err)
	}
	return out, nil
}

// Sample returns up to limit non-null values of field in collection name,
// as plain returns them.
func (s *Store) Sample(ctx context.Context, name, field string, limit int) ([]any, error) {
	f := bson.D{{Key: field, Value: bson.D{{Key: "$exists", Value: true}, {Key: "$ne", Value: nil}}}}
	cur, err := s.db.Collection(name).Find(ctx, f, options.Find().SetLimit(int64(limit)).SetProjection(bson.D{{Key: field, Value: 1}}))
	if err != nil {
		return nil, s.fail(ctx, "sample", name, err)
	}
	defer cur.Close(ctx)
	var out []any
	for cur.Next(ctx) {
		out = append(out, plain(cur.Current.Lookup(field)))
	}
	if err := cur.Err(); err != nil {
		return nil, s.fail(ctx, "sample", name, err)
	}
	return out, nil
}
