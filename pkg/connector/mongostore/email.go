package mongostore

import (
	"context"
	"regexp"
	"strings"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// matchEmail returns the _ids of c's documents whose field holds email,
// folded by dsr.FoldEmail on both sides. The server is asked for the
// candidates with candidatePattern; each is confirmed here, so that a
// pattern that lets more through never matches another person.
func (s *Store) matchEmail(ctx context.Context, c *registry.Collection, field, email string) (bson.A, error) {
	want := dsr.FoldEmail(email)
	f := bson.D{{Key: field, Value: bson.Regex{Pattern: candidatePattern(want)}}}
	opts := options.Find().SetProjection(bson.D{{Key: registry.MongoID, Value: 1}, {Key: field, Value: 1}})
	cur, err := s.db.Collection(c.Table).Find(ctx, f, opts)
	if err != nil {
		return nil, s.fail(ctx, "match", c.Key, err)
	}
	defer cur.Close(ctx)
	ids := bson.A{}
	for cur.Next(ctx) {
		v, ok := cur.Current.Lookup(field).StringValueOK()
		if !ok || dsr.FoldEmail(v) != want {
			continue
		}
		if ids = append(ids, cur.Current.Lookup(registry.MongoID)); len(ids) > s.maxKeys() {
			return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "collection %s: more than %d documents hold the address", c.Key, s.maxKeys())
		}
	}
	if err := cur.Err(); err != nil {
		return nil, s.fail(ctx, "match", c.Key, err)
	}
	return ids, nil
}

// candidatePattern returns an anchored regular expression that every
// string folding to folded (dsr.FoldEmail) matches: each ASCII letter
// stands for itself in either case (k also for the Kelvin sign), every
// other ASCII character for itself only, escaped; a run of other
// characters (with the ASCII letter before it, which may fold from a
// letter such as İ) for one or more characters. No character of the
// address can act as an operator of the pattern.
func candidatePattern(folded string) string {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(folded); {
		r, size := utf8.DecodeRuneInString(folded[i:])
		next := i + size
		if r < utf8.RuneSelf && (next >= len(folded) || folded[next] < utf8.RuneSelf) {
			b.WriteString(asciiClass(byte(r)))
			i = next
			continue
		}
		for i = next; i < len(folded); i += size { // the run of non-ASCII characters
			if r, size = utf8.DecodeRuneInString(folded[i:]); r < utf8.RuneSelf {
				break
			}
		}
		b.WriteString(".+")
	}
	b.WriteString("$")
	return b.String()
}

func asciiClass(c byte) string {
	switch {
	case c == 'k':
		return `[kK\x{212A}]`
	case c >= 'a' && c <= 'z':
		return "[" + string(c) + string(c-'a'+'A') + "]"
	case c >= 'A' && c <= 'Z':
		return "[" + string(c) + string(c-'A'+'a') + "]"
	}
	return regexp.QuoteMeta(string(c))
}
