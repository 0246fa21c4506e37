package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/export"
	"github.com/lethe-privacy/lethe/pkg/queue"
	"github.com/lethe-privacy/lethe/pkg/state"
)

// exportSweepEvery is how often the leader deletes expired access packages.
const exportSweepEvery = time.Hour

// openExports opens the export bucket (LETHE_EXPORT_URL) with the export
// key (LETHE_EXPORT_KEY). Without a key it returns nil and access requests
// fail with a message saying so. Errors: a key that is not 32 bytes in hex
// or base64; a bucket that cannot be opened.
func openExports(ctx context.Context, cfg Config, db *state.DB, requests dsr.RequestService, log *slog.Logger) (*export.Service, error) {
	if cfg.ExportKey == "" {
		log.Warn("LETHE_EXPORT_KEY is not set: access requests will fail until one is set (openssl rand -hex 32)")
		return nil, nil
	}
	key, previous, err := cfg.exportKeys()
	if err != nil {
		return nil, err
	}
	if len(previous) == 0 { // no rotation under way: the current key made every package
		if _, err := state.StampExportKeys(ctx, db, dsr.KeyID(key)); err != nil {
			return nil, err
		}
	}
	bucket, err := export.OpenBucket(ctx, cfg.ExportURL)
	if err != nil {
		return nil, err
	}
	return &export.Service{Bucket: bucket, Key: key, Previous: previous, Records: &state.ExportStore{DB: db}, Requests: requests, Now: time.Now}, nil
}

// exportSweep is the periodic job that deletes expired packages.
func exportSweep(svc *services, exports *export.Service, log *slog.Logger) queue.Periodic {
	sw := &export.Sweeper{Records: svc.Exports, Bucket: exports.Bucket, Now: time.Now, Logger: log}
	return queue.Periodic{Name: "export-sweep", Every: exportSweepEvery, Run: func(ctx context.Context) error {
		_, err := sw.Sweep(ctx)
		return err
	}}
}
