package mongostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/connector"
)

// DefaultMaxKeys bounds the keys a store resolves in memory for one match:
// the _ids of the documents an address matches, or the key values of a
// parent selection nested under a hop.
const DefaultMaxKeys = 100000

// Store is one mongo store of the registry: a database on a server.
type Store struct {
	name   string
	client *mongo.Client
	db     *mongo.Database
	// MaxKeys bounds the keys resolved for one match (DefaultMaxKeys when 0):
	// past it a request fails with EUNPROCESSABLE rather than load more.
	MaxKeys int
}

var _ connector.Store = (*Store)(nil)

// Open returns store name over database on the server at uri. It does not
// wait for the server: a store that is down fails its first command with
// EUNAVAILABLE instead. Errors: a URI the driver does not accept.
func Open(name, uri, database string) (*Store, error) {
	opts := options.Client().ApplyURI(uri).SetServerSelectionTimeout(10 * time.Second).SetAppName("lethe")
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("store %s: open: %w", name, err)
	}
	return &Store{name: name, client: client, db: client.Database(database)}, nil
}

// Name returns the store's name in the registry.
func (s *Store) Name() string { return s.name }

// Database returns the store's database handle, for tools and tests that
// seed or inspect the application's documents. The engine never uses it.
func (s *Store) Database() *mongo.Database { return s.db }

// Ping checks that the server answers; EUNAVAILABLE when it does not.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.client.Ping(ctx, readpref.Primary()); err != nil {
		return s.unavailable(err)
	}
	return nil
}

// Close disconnects from the server.
func (s *Store) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.client.Disconnect(ctx)
}

func (s *Store) maxKeys() int {
	if s.MaxKeys > 0 {
		return s.MaxKeys
	}
	return DefaultMaxKeys
}

func (s *Store) unavailable(cause error) error { return connector.Unavailable(s.name, cause) }

// fail classifies a command's error: context errors pass through, a server
// that no longer answers a ping is EUNAVAILABLE, anything else is wrapped
// with the collection's name. Driver errors never carry the filter's
// values, so no address reaches a log through them.
func (s *Store) fail(ctx context.Context, what, collection string, err error) error {
	var coded *dsr.Error
	if errors.As(err, &coded) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		return fmt.Errorf("%s %s: %w", what, collection, err)
	}
	if perr := s.Ping(context.WithoutCancel(ctx)); perr != nil {
		return perr
	}
	return fmt.Errorf("%s %s: %w", what, collection, err)
}
