package redisstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/connector/redisstore"
	"github.com/lethe-privacy/lethe/pkg/testdb"
)

// open returns a store on the real Redis and a key prefix of the test's
// own; every key under it is removed when the test ends.
func open(t *testing.T) (*redisstore.Store, string) {
	t.Helper()
	s, err := redisstore.Open("cache", testdb.RedisAddr())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("redis at %s is not reachable (start it; see .ci/run): %v", testdb.RedisAddr(), err)
	}
	prefix := "lethetest:" + uuid.NewString()[:8] + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		_ = s.Scan(ctx, engine.KeyPattern{Match: engine.EscapeGlob(prefix) + "*"}, func(keys []string) error {
			_, err := s.Delete(ctx, keys)
			return err
		})
		s.Close()
	})
	return s, prefix
}

func scan(t *testing.T, s *redisstore.Store, p engine.KeyPattern) []string {
	t.Helper()
	var out []string
	if err := s.Scan(context.Background(), p, func(keys []string) error { out = append(out, keys...); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestEscapedMatch: an email holding glob characters matches only its own
// keys, never a neighbour's.
func TestEscapedMatch(t *testing.T) {
	ctx := context.Background()
	s, pre := open(t)
	c := s.Client()
	tricky := "a*b?[c]\\d@example.com"
	for _, k := range []string{"rl:" + tricky, "rl:aXbYcd@example.com", "rl:a*b?c\\d@example.com", "sess:" + tricky + ":1", "sess:" + tricky + ":2", "sess:other:1"} {
		c.Set(ctx, pre+k, "v", 0)
	}
	got := scan(t, s, engine.KeyPattern{Match: engine.EscapeGlob(pre+"sess:"+tricky) + ":*"})
	if want := []string{pre + "sess:" + tricky + ":1", pre + "sess:" + tricky + ":2"}; !slices.Equal(got, want) {
		t.Errorf("scan = %q, want %q", got, want)
	}
	got = scan(t, s, engine.KeyPattern{Match: engine.EscapeGlob(pre + "rl:" + tricky), Exact: pre + "rl:" + tricky})
	if want := []string{pre + "rl:" + tricky}; !slices.Equal(got, want) {
		t.Errorf("exact = %q, want %q", got, want)
	}
	if got := scan(t, s, engine.KeyPattern{Match: engine.EscapeGlob(pre + "rl:" + tricky)}); len(got) != 1 {
		t.Errorf("escaped glob = %q, want only the tricky key", got)
	}
	if got := scan(t, s, engine.KeyPattern{Exact: pre + "rl:nobody"}); len(got) != 0 {
		t.Errorf("missing exact key found: %q", got)
	}
}

// TestReadAndDelete reads every supported type and deletes the keys.
func TestReadAndDelete(t *testing.T) {
	ctx := context.Background()
	s, pre := open(t)
	c := s.Client()
	c.Set(ctx, pre+"str", "hello", time.Hour)
	c.HSet(ctx, pre+"hash", "email", "ada@example.com", "name", "Ada")
	c.RPush(ctx, pre+"list", "a", "b", "c")
	c.SAdd(ctx, pre+"set", "x", "y")
	c.ZAdd(ctx, pre+"zset", redis.Z{Score: 2, Member: "two"}, redis.Z{Score: 1, Member: "one"})

	for key, check := range map[string]func(*engine.KeyValue) bool{
		"str": func(kv *engine.KeyValue) bool { return kv.Type == "string" && kv.Value == "hello" && kv.TTL > 3500 },
		"hash": func(kv *engine.KeyValue) bool {
			m, _ := kv.Value.(map[string]string)
			return m["email"] == "ada@example.com" && kv.TTL == -1
		},
		"list": func(kv *engine.KeyValue) bool {
			l, _ := kv.Value.([]string)
			return slices.Equal(l, []string{"a", "b", "c"})
		},
		"set": func(kv *engine.KeyValue) bool {
			l, _ := kv.Value.([]string)
			slices.Sort(l)
			return slices.Equal(l, []string{"x", "y"})
		},
		"zset": func(kv *engine.KeyValue) bool {
			z, _ := kv.Value.([]engine.ZMember)
			return len(z) == 2 && z[0].Member == "one" && z[1].Score == 2
		},
	} {
		kv, err := s.Read(ctx, pre+key)
		if err != nil || kv == nil || !check(kv) {
			t.Errorf("Read(%s) = %+v, %v", key, kv, err)
		}
	}
	if kv, err := s.Read(ctx, pre+"none"); kv != nil || err != nil {
		t.Errorf("missing key: %+v %v", kv, err)
	}
	keys := scan(t, s, engine.KeyPattern{Match: engine.EscapeGlob(pre) + "*"})
	if n, err := s.Delete(ctx, keys); n != 5 || err != nil {
		t.Errorf("delete = %d %v", n, err)
	}
	if left := scan(t, s, engine.KeyPattern{Match: engine.EscapeGlob(pre) + "*"}); len(left) != 0 {
		t.Errorf("left: %q", left)
	}
}

func TestUnreachable(t *testing.T) {
	s, _ := redisstore.Open("cache", "127.0.0.1:1")
	defer s.Close()
	err := s.Ping(context.Background())
	if dsr.ErrorCode(err) != dsr.EUNAVAILABLE {
		t.Fatalf("ping an unreachable redis: %v, want EUNAVAILABLE", err)
	}
}
