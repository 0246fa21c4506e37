package testdb

import (
	"cmp"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// MongoURI is the MongoDB-wire server tests use: LETHE_TEST_MONGO_URI or
// FerretDB on 127.0.0.1:27017 (deploy/ferretdb).
func MongoURI() string {
	return cmp.Or(os.Getenv("LETHE_TEST_MONGO_URI"), "mongodb://127.0.0.1:27017/")
}

// startFerretDB runs deploy/ferretdb/start.sh once per test binary: it
// starts FerretDB in the background unless something already listens on
// 127.0.0.1:27017, as .ci/run does.
var startFerretDB = sync.OnceValues(func() ([]byte, error) {
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "deploy", "ferretdb", "start.sh")
	return exec.Command("bash", script).CombinedOutput()
})

// Mongo creates a database of its own for t on the MongoDB-wire server and
// returns the server's URI and the database's name. The database is
// dropped when t ends. Without LETHE_TEST_MONGO_URI the local FerretDB is
// started first when it is not running (unless LETHE_TEST_REQUIRE_SERVICES
// says the services are already up); a server that cannot be reached
// fails the test loudly.
func Mongo(t testing.TB) (uri, database string) {
	t.Helper()
	if os.Getenv("LETHE_TEST_MONGO_URI") == "" && os.Getenv("LETHE_TEST_REQUIRE_SERVICES") == "" {
		if out, err := startFerretDB(); err != nil {
			t.Fatalf("testdb: start FerretDB (deploy/ferretdb/start.sh): %v\n%s", err, out)
		}
	}
	client, err := mongo.Connect(options.Client().ApplyURI(MongoURI()).SetServerSelectionTimeout(10 * time.Second))
	if err != nil {
		t.Fatalf("testdb: mongo: %v", err)
	}
	defer client.Disconnect(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := client.Ping(ctx, nil); err != nil {
		t.Fatalf("testdb: the MongoDB-wire server at %s is not reachable (start it: deploy/ferretdb/start.sh, see .ci/run): %v", redact(MongoURI()), err)
	}
	database = name("t_")
	t.Cleanup(func() {
		c, err := mongo.Connect(options.Client().ApplyURI(MongoURI()))
		if err == nil {
			defer c.Disconnect(context.Background())
			err = c.Database(database).Drop(context.Background())
		}
		if err != nil {
			t.Errorf("testdb: drop database %s: %v", database, err)
		}
	})
	return MongoURI(), database
}
