package export

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
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
// returns how many it deleted, then the temporary files that writes cut
// short by a crash left (see sweepTemp). Errors: the store's or the
// bucket's, after the packages deleted so far are marked.
func (s *Sweeper) Sweep(ctx context.Context) (int, error) {
	n, err := s.sweepExpired(ctx)
	return n, errors.Join(err, s.sweepTemp(ctx))
}

// tempName is a package's temporary file in a file bucket: written next
// to its final place (no_tmp_dir) and renamed there once complete.
var tempName = regexp.MustCompile(`\.zip\.lethe\.[0-9a-f]+\.tmp$`)

// StaleTemp is how long a package's temporary file is left unwritten
// before Sweep takes it for the leftover of a crashed write: a write
// under way, on any replica, changes it far more often.
const StaleTemp = time.Hour

// sweepTemp deletes the temporary package files not written to for
// StaleTemp. A process that dies while writing a package leaves one
// beside the packages, with no record: neither the expiry sweep nor an
// erasure of the person would find it, and it holds (encrypted) their
// data. Buckets other than file ones have none.
func (s *Sweeper) sweepTemp(ctx context.Context) error {
	n := 0
	it := s.Bucket.List(nil)
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			break
		} else if err != nil {
			return fmt.Errorf("export sweep: list the bucket: %w", err)
		}
		if obj.IsDir || !tempName.MatchString(obj.Key) || time.Since(obj.ModTime) < StaleTemp {
			continue
		}
		if err := s.Bucket.Delete(ctx, obj.Key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
			return fmt.Errorf("export sweep: delete a leftover temporary file: %w", err)
		}
		n++
	}
	if n > 0 && s.Logger != nil {
		s.Logger.Info("leftover temporary package files deleted", "count", n)
	}
	return nil
}

func (s *Sweeper) sweepExpired(ctx context.Context) (int, error) {
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
