package mongostore

import (
	"context"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// A document's timestamp field may hold a BSON date, an epoch number (when
// the retention rule declares its unit) or ISO-8601 text as the
// application wrote it: "2024-05-01", "2024-05-01T10:00:00Z",
// "2024-05-01 10:00:00.123+02:00". A collection has no schema, so every
// document is dated by what its own field holds, the three forms side by
// side; any other value (text that is no such date, a number without a
// unit) is never older.
//
// MongoDB compares text as text, and text with an offset does not sort as
// the instants it names. An offset moves a local time by at most 14 hours,
// so text whose day is two days before the cut-off's is older whatever its
// offset, text whose day is two days after is not, and the server decides
// both by comparing text. The documents dated in the days between (a few
// days of documents, at most MaxKeys) are read, their text parsed here,
// and those older are selected by _id.

// isoPattern is the ISO-8601 text Lethe dates: a day, optionally a time of
// day (with seconds and a fraction, optionally) after T or a space, and
// optionally an offset. Text without an offset is UTC.
var isoPattern = regexp.MustCompile(`^([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[T ]([0-9]{2}:[0-9]{2})(:[0-9]{2}(?:[.,][0-9]+)?)?)? *(Z|z|[+-][0-9]{2}(?::?[0-9]{2})?)?$`)

// parseISO returns the instant text names, and false for text isoPattern
// does not accept or that names no valid date.
func parseISO(text string) (time.Time, bool) {
	m := isoPattern.FindStringSubmatch(text)
	if m == nil {
		return time.Time{}, false
	}
	stamp := m[1] + "T00:00:00"
	if m[2] != "" {
		secs := strings.Replace(m[3], ",", ".", 1)
		if secs == "" {
			secs = ":00"
		}
		stamp = m[1] + "T" + m[2] + secs
	}
	t, err := time.Parse("2006-01-02T15:04:05.999999999", stamp)
	if err != nil {
		return time.Time{}, false
	}
	if zone := m[4]; zone != "" && zone != "Z" && zone != "z" {
		digits := strings.ReplaceAll(zone[1:], ":", "")
		h, _ := strconv.Atoi(digits[:2])
		mins := 0
		if len(digits) == 4 {
			mins, _ = strconv.Atoi(digits[2:])
		}
		if h > 14 || mins > 59 {
			return time.Time{}, false
		}
		off := time.Duration(h)*time.Hour + time.Duration(mins)*time.Minute
		if zone[0] == '+' {
			off = -off
		}
		t = t.Add(off)
	}
	return t, true
}

// textSlack is how far, in days, the day of a text timestamp may lie from
// the cut-off's before its offset decides whether it is older.
const textSlack = 2 * 24 * time.Hour

// older returns the condition "field dated before o.Before" (and, with
// o.After, not before the resume position, compared within the kind of
// value it is): BSON dates, epoch numbers of the retention rule's unit,
// and ISO-8601 text.
func (s *Store) older(ctx context.Context, c *registry.Collection, o *connector.Older) (bson.D, error) {
	since := func(cut any) bson.D {
		cond := bson.D{{Key: "$lt", Value: cut}}
		if o.After != nil && reflect.TypeOf(o.After) == reflect.TypeOf(cut) {
			cond = append(cond, bson.E{Key: "$gte", Value: o.After})
		}
		return bson.D{{Key: o.Column, Value: cond}}
	}
	before := o.Before.UTC()
	or := bson.A{since(before)}
	if ret := c.Retention; ret != nil && ret.Unit != "" && o.Column == ret.Timestamp {
		or = append(or, since(registry.CutoffValue(registry.TimeEpoch, ret.Unit, before)))
	}
	text, err := s.olderText(ctx, c, o)
	if err != nil {
		return nil, err
	}
	or = append(or, text)
	return bson.D{{Key: "$or", Value: or}}, nil
}

// olderText is the condition on ISO-8601 text: text whose day is textSlack
// before the cut-off's, or a document of the days in between whose text,
// parsed, is older.
func (s *Store) olderText(ctx context.Context, c *registry.Collection, o *connector.Older) (bson.D, error) {
	lo := o.Before.UTC().Add(-textSlack).Format(time.DateOnly)
	hi := o.Before.UTC().Add(textSlack).Format(time.DateOnly)
	iso := bson.Regex{Pattern: isoPattern.String()}
	cond := bson.D{{Key: "$regex", Value: iso}}
	if after, ok := o.After.(string); ok {
		cond = append(cond, bson.E{Key: "$gte", Value: after})
	}
	band := bson.D{{Key: "$and", Value: bson.A{
		bson.D{{Key: o.Column, Value: bson.D{{Key: "$gte", Value: lo}, {Key: "$lt", Value: hi}}}},
		bson.D{{Key: o.Column, Value: bson.D{{Key: "$regex", Value: iso}}}},
	}}}
	opts := options.Find().SetProjection(bson.D{{Key: registry.MongoID, Value: 1}, {Key: o.Column, Value: 1}})
	cur, err := s.db.Collection(c.Table).Find(ctx, band, opts)
	if err != nil {
		return nil, err
	}
	defer cur.Close(ctx)
	ids := bson.A{}
	for cur.Next(ctx) {
		v, ok := cur.Current.Lookup(o.Column).StringValueOK()
		if t, parsed := parseISO(v); !ok || !parsed || !t.Before(o.Before) {
			continue
		}
		if ids = append(ids, cur.Current.Lookup(registry.MongoID)); len(ids) > s.maxKeys() {
			return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "collection %s: more than %d documents dated by text near the cut-off", c.Key, s.maxKeys())
		}
	}
	if err := cur.Err(); err != nil {
		return nil, err
	}
	return bson.D{{Key: "$and", Value: bson.A{
		bson.D{{Key: o.Column, Value: cond}},
		bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: o.Column, Value: bson.D{{Key: "$lt", Value: lo}}}},
			bson.D{{Key: registry.MongoID, Value: bson.D{{Key: "$in", Value: ids}}}},
		}}},
	}}}, nil
}
