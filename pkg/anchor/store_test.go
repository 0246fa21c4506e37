package anchor_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // a folder on disk

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/anchor"
)

// TestStoreRoundTrip: checkpoints written to a folder come back in chain
// order (not write order), still valid under the key that signed them;
// other objects in the bucket are ignored, and an object in the
// checkpoints' folder that is not a checkpoint is an error naming it.
func TestStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	bucket, err := blob.OpenBucket(ctx, "file://"+t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer bucket.Close()
	pub, key, _ := ed25519.GenerateKey(nil)
	s := &anchor.Store{Bucket: bucket}
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, seq := range []int64{12, 3, 100} {
		if err := s.SaveCheckpoint(ctx, dsr.SignCheckpoint(key, seq, strings.Repeat("a", 64), at)); err != nil {
			t.Fatal(err)
		}
	}
	if err := bucket.WriteAll(ctx, "0190-request.zip.lethe", []byte("a package"), nil); err != nil {
		t.Fatal(err)
	}
	cps, err := s.Checkpoints(ctx)
	if err != nil || len(cps) != 3 {
		t.Fatalf("checkpoints %v, %v", cps, err)
	}
	for i, want := range []int64{3, 12, 100} {
		if cps[i].Seq != want || !cps[i].Valid(pub) || !cps[i].At.Equal(at) {
			t.Errorf("checkpoint %d = %+v, want entry %d, valid, signed at %s", i, cps[i], want, at)
		}
	}
	if err := bucket.WriteAll(ctx, anchor.Prefix+"junk.json", []byte("{}"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Checkpoints(ctx); err == nil || !strings.Contains(err.Error(), "junk.json") {
		t.Errorf("a stray object: %v; want an error naming it", err)
	}
}

// TestCheckpointFileIsPrivate: in a file:// bucket a checkpoint is written
// 0600, as everything else Lethe writes, whatever the umask.
func TestCheckpointFileIsPrivate(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	bucket, err := blob.OpenBucket(ctx, "file://"+dir+"?metadata=skip")
	if err != nil {
		t.Fatal(err)
	}
	defer bucket.Close()
	_, key, _ := ed25519.GenerateKey(nil)
	if err := (&anchor.Store{Bucket: bucket}).SaveCheckpoint(ctx, dsr.SignCheckpoint(key, 7, strings.Repeat("b", 64), time.Now())); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(anchor.Prefix), "00000000000000000007.json"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("checkpoint file mode %v; want 0600", fi.Mode().Perm())
	}
}

// TestNewestAndSupersede: Newest is the checkpoint of the highest entry
// (nil in an empty bucket); superseded checkpoints leave what Checkpoints
// and Newest read and are kept under audit/superseded/<label>/; a label
// with a slash is refused.
func TestNewestAndSupersede(t *testing.T) {
	ctx := context.Background()
	bucket, err := blob.OpenBucket(ctx, "file://"+t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer bucket.Close()
	_, key, _ := ed25519.GenerateKey(nil)
	s := &anchor.Store{Bucket: bucket}
	if c, err := s.Newest(ctx); c != nil || err != nil {
		t.Fatalf("Newest of an empty bucket = %+v, %v; want nil", c, err)
	}
	var cps []*dsr.Checkpoint
	for _, seq := range []int64{9, 100, 12} {
		c := dsr.SignCheckpoint(key, seq, strings.Repeat("c", 64), time.Now())
		cps = append(cps, c)
		if err := s.SaveCheckpoint(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if c, err := s.Newest(ctx); err != nil || c == nil || c.Seq != 100 {
		t.Fatalf("Newest = %+v, %v; want entry 100", c, err)
	}
	if err := s.Supersede(ctx, "a/b", cps[1:2]); err == nil {
		t.Error("Supersede with a label holding a slash: no error")
	}
	if err := s.Supersede(ctx, "restore-1", cps[1:]); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Newest(ctx); err != nil || c == nil || c.Seq != 9 {
		t.Errorf("Newest after superseding 100 and 12 = %+v, %v; want entry 9", c, err)
	}
	if left, err := s.Checkpoints(ctx); err != nil || len(left) != 1 {
		t.Errorf("checkpoints left %v, %v; want entry 9 alone", left, err)
	}
	for _, name := range []string{"00000000000000000100.json", "00000000000000000012.json"} {
		if ok, err := bucket.Exists(ctx, anchor.SupersededPrefix+"restore-1/"+name); !ok || err != nil {
			t.Errorf("%s not kept under %s: %v", name, anchor.SupersededPrefix, err)
		}
	}
}

// TestCheckpointNeverReplacedByAnotherHash: a checkpoint of an entry the
// anchor already holds with another hash is refused and the first kept;
// one with the same hash (a re-signature with a newer key) replaces it.
func TestCheckpointNeverReplacedByAnotherHash(t *testing.T) {
	ctx := context.Background()
	bucket, err := blob.OpenBucket(ctx, "file://"+t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer bucket.Close()
	_, oldKey, _ := ed25519.GenerateKey(nil)
	newPub, newKey, _ := ed25519.GenerateKey(nil)
	s := &anchor.Store{Bucket: bucket}
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	real, forged := strings.Repeat("a", 64), strings.Repeat("f", 64)
	if err := s.SaveCheckpoint(ctx, dsr.SignCheckpoint(oldKey, 10, real, at)); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCheckpoint(ctx, dsr.SignCheckpoint(oldKey, 10, forged, at)); !errors.Is(err, anchor.ErrCheckpointDiffers) {
		t.Errorf("a checkpoint of entry 10 with another hash: %v; want ErrCheckpointDiffers", err)
	}
	if err := s.SaveCheckpoint(ctx, dsr.SignCheckpoint(newKey, 10, real, at)); err != nil {
		t.Errorf("re-signing entry 10 with a newer key: %v", err)
	}
	cps, err := s.Checkpoints(ctx)
	if err != nil || len(cps) != 1 || cps[0].Hash != real || !cps[0].Valid(newPub) {
		t.Errorf("checkpoints %+v, %v; want entry 10's real hash, signed by the newer key", cps, err)
	}
}
