package anchor_test

import (
	"context"
	"crypto/ed25519"
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
