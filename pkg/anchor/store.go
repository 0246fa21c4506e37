package anchor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"gocloud.dev/blob"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/private"
)

// Prefix is the folder of the checkpoints in the bucket.
const Prefix = "audit/checkpoints/"

// Store implements dsr.CheckpointStore on a gocloud bucket.
type Store struct {
	Bucket *blob.Bucket
}

var _ dsr.CheckpointStore = (*Store)(nil)

func objectName(seq int64) string { return fmt.Sprintf("%s%020d.json", Prefix, seq) }

// SaveCheckpoint implements dsr.CheckpointStore. Errors: the bucket's.
func (s *Store) SaveCheckpoint(ctx context.Context, c *dsr.Checkpoint) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if err := s.Bucket.WriteAll(ctx, objectName(c.Seq), b, &blob.WriterOptions{ContentType: "application/json", BeforeWrite: private.BeforeWrite}); err != nil {
		return fmt.Errorf("audit anchor: write the checkpoint of entry %d: %w", c.Seq, err)
	}
	return nil
}

// Checkpoints implements dsr.CheckpointStore. Errors: the bucket's, or an
// object under Prefix that is not a checkpoint, named.
func (s *Store) Checkpoints(ctx context.Context) ([]*dsr.Checkpoint, error) {
	var out []*dsr.Checkpoint
	it := s.Bucket.List(&blob.ListOptions{Prefix: Prefix})
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("audit anchor: list the checkpoints: %w", err)
		}
		if obj.IsDir || !strings.HasSuffix(obj.Key, ".json") {
			continue
		}
		b, err := s.Bucket.ReadAll(ctx, obj.Key)
		if err != nil {
			return nil, fmt.Errorf("audit anchor: read %s: %w", obj.Key, err)
		}
		var c dsr.Checkpoint
		if err := json.Unmarshal(b, &c); err != nil || c.Seq <= 0 || c.Hash == "" {
			return nil, fmt.Errorf("audit anchor: %s is not a checkpoint; remove it from the bucket", obj.Key)
		}
		out = append(out, &c)
	}
}
