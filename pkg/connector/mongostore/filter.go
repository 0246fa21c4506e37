package mongostore

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// nothing is a filter no document meets.
var nothing = bson.D{{Key: registry.MongoID, Value: bson.D{{Key: "$in", Value: bson.A{}}}}}

// filter returns the filter selecting sel's documents. Addresses and
// nested parent selections are resolved to key lists first (see
// matchEmail, parentKeys); everything else stays a condition the server
// evaluates.
func (s *Store) filter(ctx context.Context, sel connector.Selection) (bson.D, error) {
	c := sel.Collection
	var and bson.A
	if !sel.All {
		var or bson.A
		for _, m := range sel.Matches {
			if m.Email == "" && m.Parent == nil && len(m.Values) == 0 {
				continue
			}
			f, err := s.match(ctx, c, m)
			if err != nil {
				return nil, fmt.Errorf("collection %s: %w", c.Key, err)
			}
			or = append(or, f)
		}
		switch len(or) {
		case 0:
			return nothing, nil
		case 1:
			and = append(and, or[0])
		default:
			and = append(and, bson.D{{Key: "$or", Value: or}})
		}
	}
	if sel.Tenant != "" {
		and = append(and, bson.D{{Key: c.Tenant, Value: sel.Tenant}})
	}
	if o := sel.Older; o != nil {
		f, err := s.older(ctx, c, o)
		if err != nil {
			return nil, err
		}
		and = append(and, f)
	}
	if sel.Through != nil {
		v, err := typed(ctx, s.db.Collection(c.Table), registry.MongoID, *sel.Through)
		if err != nil {
			return nil, err
		}
		and = append(and, upTo(registry.MongoID, v))
	}
	for _, ex := range sel.Except {
		f, err := s.filter(ctx, ex)
		if err != nil {
			return nil, err
		}
		and = append(and, bson.D{{Key: "$nor", Value: bson.A{f}}})
	}
	if len(and) == 0 {
		return bson.D{}, nil
	}
	return bson.D{{Key: "$and", Value: and}}, nil
}

// match returns the filter of one match, with the reference's conditions.
func (s *Store) match(ctx context.Context, c *registry.Collection, m connector.Match) (bson.D, error) {
	var f bson.D
	switch {
	case m.Email != "":
		ids, err := s.matchEmail(ctx, c, m.Columns[0], m.Email)
		if err != nil {
			return nil, err
		}
		f = bson.D{{Key: registry.MongoID, Value: bson.D{{Key: "$in", Value: ids}}}}
	case m.Parent != nil:
		keys, err := s.parentKeys(ctx, *m.Parent, m.ParentColumn)
		if err != nil {
			return nil, err
		}
		f = bson.D{{Key: m.Columns[0], Value: bson.D{{Key: "$in", Value: inValues(keys)}}}}
	default:
		var err error
		if f, err = in(m.Columns, m.Values); err != nil {
			return nil, err
		}
	}
	if len(m.Where) == 0 {
		return f, nil
	}
	and := bson.A{f}
	for _, w := range m.Where {
		and = append(and, bson.D{{Key: w.Column, Value: w.Value}})
	}
	return bson.D{{Key: "$and", Value: and}}, nil
}

// in returns cols IN keys; a composite key matches all its fields.
func in(cols []string, keys []string) (bson.D, error) {
	if len(cols) == 1 {
		return bson.D{{Key: cols[0], Value: bson.D{{Key: "$in", Value: inValues(keys)}}}}, nil
	}
	or := bson.A{}
	for _, key := range keys {
		vals, err := connector.DecodeKey(key, len(cols))
		if err != nil {
			return nil, err
		}
		and := bson.A{}
		for i, col := range cols {
			and = append(and, bson.D{{Key: col, Value: bson.D{{Key: "$in", Value: inValues(vals[i : i+1])}}}})
		}
		or = append(or, bson.D{{Key: "$and", Value: and}})
	}
	if len(or) == 0 {
		return nothing, nil
	}
	return bson.D{{Key: "$or", Value: or}}, nil
}

// parentKeys reads the distinct values of col in the documents parent
// selects, page by page; EUNPROCESSABLE past MaxKeys.
func (s *Store) parentKeys(ctx context.Context, parent connector.Selection, col string) ([]string, error) {
	var out []string
	var last *string
	const page = 5000
	for {
		vals, err := s.Values(ctx, parent, []string{col}, last, page)
		if err != nil {
			return nil, err
		}
		if out = append(out, vals...); len(out) > s.maxKeys() {
			return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "collection %s: more than %d keys under one hop", parent.Collection.Key, s.maxKeys())
		}
		if len(vals) < page {
			return out, nil
		}
		last = &vals[len(vals)-1]
	}
}
