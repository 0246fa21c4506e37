package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
)

// scanCount is the COUNT hint of one SCAN step.
const scanCount = 1000

// Store is one redis store of the registry.
type Store struct {
	name   string
	client *redis.Client
}

var _ engine.KeyStore = (*Store)(nil)

// Open returns store name for the server at addr: "host:port", or a
// redis:// or rediss:// URL (with a password or database number). It does
// not connect. Errors: a URL that does not parse.
func Open(name, addr string) (*Store, error) {
	opts := &redis.Options{Addr: addr}
	if len(addr) > 8 && (addr[:8] == "redis://" || (len(addr) > 9 && addr[:9] == "rediss://")) {
		var err error
		if opts, err = redis.ParseURL(addr); err != nil {
			return nil, fmt.Errorf("store %s: address: %w", name, err)
		}
	}
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = 5*time.Second, 10*time.Second, 10*time.Second
	opts.MaxRetries = 2
	return &Store{name: name, client: redis.NewClient(opts)}, nil
}

// Name returns the store's name in the registry.
func (s *Store) Name() string { return s.name }

// Client returns the go-redis client, for tools and tests.
func (s *Store) Client() *redis.Client { return s.client }

// Scan implements engine.KeyStore.
func (s *Store) Scan(ctx context.Context, p engine.KeyPattern, fn func(keys []string) error) error {
	if p.Exact != "" {
		n, err := s.client.Exists(ctx, p.Exact).Result()
		if err != nil {
			return s.unavailable("exists", err)
		}
		if n > 0 {
			return fn([]string{p.Exact})
		}
		return nil
	}
	var cursor uint64
	for {
		keys, next, err := s.client.Scan(ctx, cursor, p.Match, scanCount).Result()
		if err != nil {
			return s.unavailable("scan", err)
		}
		if len(keys) > 0 {
			if err := fn(keys); err != nil {
				return err
			}
		}
		if cursor = next; cursor == 0 {
			return nil
		}
	}
}

// Delete implements engine.KeyStore with UNLINK, which frees memory off the
// server's main thread.
func (s *Store) Delete(ctx context.Context, keys []string) (int64, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	n, err := s.client.Unlink(ctx, keys...).Result()
	if err != nil {
		return 0, s.unavailable("unlink", err)
	}
	return n, nil
}

// Read implements engine.KeyStore: strings, hashes, lists, sets and sorted
// sets are read whole; another type is reported with its type only.
func (s *Store) Read(ctx context.Context, key string) (*engine.KeyValue, error) {
	typ, err := s.client.Type(ctx, key).Result()
	if err != nil {
		return nil, s.unavailable("type", err)
	}
	kv := &engine.KeyValue{Key: key, Type: typ}
	switch typ {
	case "none":
		return nil, nil
	case "string":
		kv.Value, err = s.client.Get(ctx, key).Result()
	case "hash":
		kv.Value, err = s.client.HGetAll(ctx, key).Result()
	case "list":
		kv.Value, err = s.client.LRange(ctx, key, 0, -1).Result()
	case "set":
		kv.Value, err = s.client.SMembers(ctx, key).Result()
	case "zset":
		var zs []redis.Z
		if zs, err = s.client.ZRangeWithScores(ctx, key, 0, -1).Result(); err == nil {
			members := make([]engine.ZMember, len(zs))
			for i, z := range zs {
				members[i] = engine.ZMember{Member: fmt.Sprint(z.Member), Score: z.Score}
			}
			kv.Value = members
		}
	}
	if errors.Is(err, redis.Nil) {
		return nil, nil // gone between TYPE and the read
	} else if err != nil {
		return nil, s.unavailable("read", err)
	}
	ttl, err := s.client.TTL(ctx, key).Result()
	if err != nil {
		return nil, s.unavailable("ttl", err)
	}
	kv.TTL = -1
	if ttl > 0 {
		kv.TTL = int64(ttl / time.Second)
	}
	return kv, nil
}

// Ping checks that the server answers; EUNAVAILABLE when it does not.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx).Err(); err != nil {
		return s.unavailable("ping", err)
	}
	return nil
}

// Close closes the client's connections.
func (s *Store) Close() error { return s.client.Close() }

func (s *Store) unavailable(op string, cause error) error {
	if errors.Is(cause, context.Canceled) || errors.Is(cause, context.DeadlineExceeded) {
		return fmt.Errorf("redis store %s: %s: %w", s.name, op, cause)
	}
	return dsr.Errorf(dsr.EUNAVAILABLE, "redis store %s: %s failed", s.name, op).Because(cause)
}
