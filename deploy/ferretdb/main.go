// Command ferretdb runs FerretDB 1.x, a MongoDB-wire server, on its SQLite
// backend: the server Lethe's mongo store is tested and benchmarked
// against. It lives in a module of its own so that Lethe's go.mod does not
// carry FerretDB's dependencies.
//
//	go run . -listen 127.0.0.1:27017 -dir /tmp/lethe-ferretdb
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "host:port to serve the MongoDB wire protocol on")
	dir := flag.String("dir", filepath.Join(os.TempDir(), "lethe-ferretdb"), "folder of the SQLite databases")
	pg := flag.String("postgres", "", "a PostgreSQL URL: use the postgresql backend instead of SQLite")
	flag.Parse()
	if err := run(*listen, *dir, *pg); err != nil {
		log.Fatal(err)
	}
}

func run(listen, dir, pg string) error {
	cfg := &ferretdb.Config{Listener: ferretdb.ListenerConfig{TCP: listen}}
	if pg != "" {
		cfg.Handler, cfg.PostgreSQLURL = "postgresql", pg
	} else {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return err
		}
		cfg.Handler, cfg.SQLiteURL = "sqlite", "file:"+abs+"/"
	}
	f, err := ferretdb.New(cfg)
	if err != nil {
		return fmt.Errorf("ferretdb: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Printf("ferretdb: serving %s", f.MongoDBURI())
	f.Run(ctx)
	return nil
}
