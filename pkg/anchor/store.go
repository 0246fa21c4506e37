package anchor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

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

// ErrCheckpointDiffers is the error SaveCheckpoint wraps when the anchor
// already holds a checkpoint of the entry with another hash.
var ErrCheckpointDiffers = errors.New("the anchor holds a checkpoint of that entry with another hash")

// SaveCheckpoint implements dsr.CheckpointStore. A checkpoint is never
// written over one of the same entry with another hash: the chain under a
// replica would then have been cut back and appended to (by a restore, or
// by someone who can write the state store), and another replica's
// checkpoint of the entry is the evidence. The same hash is written over
// (a re-signature with a newer key, or two replicas signing one head).
// Errors: ErrCheckpointDiffers, wrapped; the bucket's.
func (s *Store) SaveCheckpoint(ctx context.Context, c *dsr.Checkpoint) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	write := func(ifNotExist bool) error {
		return s.Bucket.WriteAll(ctx, objectName(c.Seq), b, &blob.WriterOptions{ContentType: "application/json",
			BeforeWrite: private.BeforeWrite, IfNotExist: ifNotExist})
	}
	err = write(true)
	if gcerrors.Code(err) == gcerrors.FailedPrecondition {
		prev, rerr := s.read(ctx, objectName(c.Seq))
		if rerr != nil {
			return rerr
		}
		if prev.Hash != c.Hash {
			return fmt.Errorf("audit anchor: checkpoint of entry %d not written: %w", c.Seq, ErrCheckpointDiffers)
		}
		err = write(false)
	}
	if err != nil {
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
		c, err := s.read(ctx, obj.Key)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
}

// SupersededPrefix is the folder where Supersede keeps the checkpoints of
// a chain given up for a restored one, one sub-folder per acceptance.
const SupersededPrefix = "audit/superseded/"

// Newest implements dsr.CheckpointStore: it lists the names and reads
// only the last. Errors: the bucket's, or a last object that is not a
// checkpoint, named.
func (s *Store) Newest(ctx context.Context) (*dsr.Checkpoint, error) {
	var last string
	it := s.Bucket.List(&blob.ListOptions{Prefix: Prefix})
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("audit anchor: list the checkpoints: %w", err)
		}
		if !obj.IsDir && strings.HasSuffix(obj.Key, ".json") && obj.Key > last {
			last = obj.Key
		}
	}
	if last == "" {
		return nil, nil
	}
	return s.read(ctx, last)
}

// Supersede implements dsr.CheckpointStore: each checkpoint is copied to
// audit/superseded/<label>/ and then deleted from audit/checkpoints/. A
// bucket whose object lock refuses the delete fails here, naming the
// object, with the copy already made.
func (s *Store) Supersede(ctx context.Context, label string, cps []*dsr.Checkpoint) error {
	if label == "" || strings.ContainsAny(label, "/\\") {
		return fmt.Errorf("audit anchor: supersede: label %q must be a non-empty name without slashes", label)
	}
	for _, c := range cps {
		from := objectName(c.Seq)
		to := SupersededPrefix + label + "/" + strings.TrimPrefix(from, Prefix)
		if err := s.Bucket.Copy(ctx, to, from, nil); err != nil {
			return fmt.Errorf("audit anchor: keep %s as %s: %w", from, to, err)
		}
		if err := s.Bucket.Delete(ctx, from); err != nil {
			return fmt.Errorf("audit anchor: remove %s (kept as %s): %w", from, to, err)
		}
	}
	return nil
}

func (s *Store) read(ctx context.Context, key string) (*dsr.Checkpoint, error) {
	b, err := s.Bucket.ReadAll(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("audit anchor: read %s: %w", key, err)
	}
	var c dsr.Checkpoint
	if err := json.Unmarshal(b, &c); err != nil || c.Seq <= 0 || c.Hash == "" {
		return nil, fmt.Errorf("audit anchor: %s is not a checkpoint; remove it from the bucket", key)
	}
	return &c, nil
}
