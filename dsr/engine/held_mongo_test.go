package engine_test

import (
	"context"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/connector/mongostore"
	"github.com/lethe-privacy/lethe/pkg/testkit"
)

// firstMongoWrite is a mongo application store that checks, when it is
// about to write (after the batch is told ahead), that the freeze step is
// stored durably.
type firstMongoWrite struct {
	*mongostore.Store
	t       *testing.T
	st      *stateEnv
	once    sync.Once
	checked bool
}

func (s *firstMongoWrite) check() {
	s.once.Do(func() {
		s.checked = true
		if stored, durably := s.st.freezeStored(s.t); !stored || !durably {
			s.t.Errorf("the application's first write came with the freeze step stored %v, durably %v; want both", stored, durably)
		}
	})
}

func (s *firstMongoWrite) wrap(ahead connector.Ahead) connector.Ahead {
	if ahead == nil {
		s.check()
		return nil
	}
	return func(last string, n int64) error {
		if err := ahead(last, n); err != nil {
			return err
		}
		s.check()
		return nil
	}
}

func (s *firstMongoWrite) Delete(ctx context.Context, sel connector.Selection, limit int, ahead connector.Ahead) (int64, error) {
	return s.Store.Delete(ctx, sel, limit, s.wrap(ahead))
}

func (s *firstMongoWrite) Anonymize(ctx context.Context, sel connector.Selection, a connector.Anonymization, after *string, limit int, ahead connector.Ahead) (int64, string, error) {
	return s.Store.Anonymize(ctx, sel, a, after, limit, s.wrap(ahead))
}

// TestMongoWritesAfterTheFreezeIsDurable: on a mongo store, which reads a
// batch and tells it ahead before writing it, the held freeze step is
// stored durably before the first document changes.
func TestMongoWritesAfterTheFreezeIsDurable(t *testing.T) {
	testkit.ForEachState(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		app, reg := testkit.OpenMongo(t, mongoPathsRegistry)
		db := app.Database()
		for _, p := range []struct{ id, email, studio string }{{"p1", "alice@example.com", "acme"}, {"p3", "bob@example.com", "acme"}} {
			if _, err := db.Collection("profiles").InsertOne(ctx, bson.D{{Key: "_id", Value: p.id}, {Key: "email", Value: p.email}, {Key: "studio", Value: p.studio}}); err != nil {
				t.Fatal(err)
			}
			for range 3 {
				if _, err := db.Collection("chats").InsertOne(ctx, bson.D{{Key: "profile", Value: p.id}, {Key: "studio", Value: p.studio}, {Key: "text", Value: "hi"}}); err != nil {
					t.Fatal(err)
				}
			}
		}
		st := openState(t, dialect)
		w := &firstMongoWrite{Store: app, t: t, st: st}
		eng := engine.New(reg, map[string]connector.Store{"app": w}, dsr.NewSubjectHasher([]byte("test-key")))
		got, _ := st.run(t, eng, "alice@example.com")
		if !w.checked || got.Counts["app.chats"] != 3 || got.Counts["app.profiles"] != 1 {
			t.Errorf("the erasure wrote nothing, or counted %v", got.Counts)
		}
	})
}
