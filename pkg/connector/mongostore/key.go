package mongostore

import (
	"context"
	"encoding/json"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// A key is how a field's value travels through the engine and other stores
// as text (see connector.EncodeKey): an ObjectId as its hex, a string as
// itself, an integer in decimal, anything else as relaxed Extended JSON.
// Keys go back into filters through candidates, which give every BSON
// value the text could stand for, so that a SQL row holding a user's
// ObjectId as hex text, and a LibreChat field holding the same id as a
// string, both match.

// keyOf returns v's key and false for null or a missing value.
func keyOf(v bson.RawValue) (string, bool) {
	switch v.Type {
	case 0, bson.TypeNull, bson.TypeUndefined:
		return "", false
	case bson.TypeObjectID:
		return v.ObjectID().Hex(), true
	case bson.TypeString:
		return v.StringValue(), true
	case bson.TypeInt32:
		return strconv.FormatInt(int64(v.Int32()), 10), true
	case bson.TypeInt64:
		return strconv.FormatInt(v.Int64(), 10), true
	case bson.TypeDouble:
		return strconv.FormatFloat(v.Double(), 'g', -1, 64), true
	}
	return extJSON(v, false), true
}

// candidates returns the BSON values key may stand for, string first.
func candidates(key string) []any {
	out := []any{key}
	if len(key) == 24 {
		if oid, err := bson.ObjectIDFromHex(key); err == nil {
			out = append(out, oid)
		}
	}
	if n, err := strconv.ParseInt(key, 10, 64); err == nil && strconv.FormatInt(n, 10) == key {
		out = append(out, n)
	}
	return out
}

// inValues returns the $in list for keys.
func inValues(keys []string) bson.A {
	out := make(bson.A, 0, len(keys))
	for _, k := range keys {
		out = append(out, candidates(k)...)
	}
	return out
}

// extJSON renders one value as Extended JSON v2 (canonical keeps every
// BSON type; relaxed reads as plain JSON where JSON has the type).
func extJSON(v bson.RawValue, canonical bool) string {
	b, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: v}}, canonical, false)
	if err != nil {
		return ""
	}
	var wrap map[string]json.RawMessage
	if json.Unmarshal(b, &wrap) != nil {
		return ""
	}
	return string(wrap["v"])
}

// fromExtJSON parses one value written by extJSON.
func fromExtJSON(text string) (any, error) {
	var wrap bson.D
	if err := bson.UnmarshalExtJSON([]byte(`{"v":`+text+`}`), false, &wrap); err != nil {
		return nil, err
	}
	return wrap[0].Value, nil
}

// typeOrder lists the BSON types keys come in, in the order MongoDB sorts
// them; a sort on a field of mixed types visits them bracket by bracket.
var typeOrder = []string{"number", "string", "objectId", "bool", "date"}

func bracket(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case bson.ObjectID:
		return "objectId"
	case int64:
		return "number"
	}
	return "string"
}

// after returns the condition "field after key" in MongoDB's sort order:
// greater within key's type, or of a type sorted later (see typed).
func after(ctx context.Context, coll *mongo.Collection, field, key string) (bson.D, error) {
	v, err := typed(ctx, coll, field, key)
	if err != nil {
		return nil, err
	}
	or := bson.A{bson.D{{Key: field, Value: bson.D{{Key: "$gt", Value: v}}}}}
	later := false
	for _, t := range typeOrder {
		if later {
			or = append(or, bson.D{{Key: field, Value: bson.D{{Key: "$type", Value: t}}}})
		}
		later = later || t == bracket(v)
	}
	return bson.D{{Key: "$or", Value: or}}, nil
}

// upTo returns the condition "field at most v" in MongoDB's sort order: at
// most v within its type, or of a type sorted earlier.
func upTo(field string, v any) bson.D {
	or := bson.A{bson.D{{Key: field, Value: bson.D{{Key: "$lte", Value: v}}}}}
	for _, t := range typeOrder {
		if t == bracket(v) {
			break
		}
		or = append(or, bson.D{{Key: field, Value: bson.D{{Key: "$type", Value: t}}}})
	}
	return bson.D{{Key: "$or", Value: or}}
}

// typed returns the BSON value key stands for in field: the candidate
// (see candidates) some document holds, looked up by an indexed equality
// in the order ObjectId, number, string; when none does (its document is
// gone), the candidate whose type some document's field has; else the
// string.
func typed(ctx context.Context, coll *mongo.Collection, field, key string) (any, error) {
	cands := candidates(key)
	for _, probe := range []func(v any) bson.D{
		func(v any) bson.D { return bson.D{{Key: field, Value: v}} },
		func(v any) bson.D { return bson.D{{Key: field, Value: bson.D{{Key: "$type", Value: bracket(v)}}}} },
	} {
		for i := len(cands) - 1; i > 0; i-- {
			n, err := coll.CountDocuments(ctx, probe(cands[i]), options.Count().SetLimit(1))
			if err != nil {
				return nil, err
			}
			if n > 0 {
				return cands[i], nil
			}
		}
	}
	return cands[0], nil
}
