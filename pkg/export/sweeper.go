package export

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/lethe-privacy/lethe/dsr"
)

// DefaultSweepBatch is how many expired packages one Sweep step deletes.
const DefaultSweepBatch = 100

// Sweeper deletes expired access packages from the bucket and marks their
// records deleted. It is idempotent: a package already gone from the
// bucket is simply marked, so two replicas sweeping at once do no harm.
type Sweeper struct {
	Records dsr.ExportStore
	Bucket  *blob.Bucket
	Now     func() time.Time
	Batch   int // 0 means DefaultSweepBatch
	Logger  *slog.Logger
}

// Sweep deletes every package expired at Now, a batch at a time, and
// returns how many it deleted. Errors: the store's or the bucket's, after
// the packages deleted so far are marked.
func (s *Sweeper) Sweep(ctx context.Context) (int, error) {
	batch := cmp.Or(s.Batch, DefaultSweepBatch)
	total := 0
	for {
		now := s.Now()
		list, err := s.Records.ExpiredExports(ctx, now, batch)
		if err != nil {
			return total, err
		}
		for _, e := range list {
			if err := s.Bucket.Delete(ctx, e.Object); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
				return total, fmt.Errorf("export sweep: delete the package of request %s: %w", e.RequestID, err)
			}
			if err := s.Records.MarkExportDeleted(ctx, e.RequestID, now); err != nil {
				return total, err
			}
			total++
		}
		if len(list) < batch {
			break
		}
	}
	if total > 0 && s.Logger != nil {
		s.Logger.Info("expired access packages deleted", "count", total)
	}
	return total, nil
}
