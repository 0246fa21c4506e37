package export

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // file:// export buckets
	_ "gocloud.dev/blob/memblob"  // mem:// export buckets (tests)
	_ "gocloud.dev/blob/s3blob"   // s3:// export buckets
	"gocloud.dev/gcerrors"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/private"
)

// DefaultURL is where packages go when LETHE_EXPORT_URL is unset: a folder
// under ./.lethe, made absolute by ResolveURL.
const DefaultURL = "file://./.lethe/exports"

// Service stores access packages encrypted in a bucket, records them, and
// serves them back. It implements engine.Exporter and dsr.ExportService.
type Service struct {
	Bucket *blob.Bucket
	Key    []byte // LETHE_EXPORT_KEY, KeySize bytes
	// Previous are the keys Key replaced (LETHE_EXPORT_KEY_PREVIOUS):
	// packages encrypted with them still decrypt; none is made with them.
	Previous [][]byte
	Records  dsr.ExportStore
	// Requests checks, in Open, that the caller may see the request.
	Requests dsr.RequestService
	// TTL is how long a package can be downloaded; 0 means dsr.DefaultExportTTL.
	TTL time.Duration
	// SpoolDir is where CSV entries are spooled, encrypted; "" for the
	// system's temporary folder.
	SpoolDir string
	// Studios, Languages and PublicURL let report.html name the studio,
	// speak the person's language and link the privacy page; each may be
	// unset.
	Studios   Studios
	Languages Languages
	PublicURL string
	Now       func() time.Time
}

var (
	_ engine.Exporter   = (*Service)(nil)
	_ dsr.ExportService = (*Service)(nil)
)

// ResolveURL returns the export bucket URL for raw ("" means DefaultURL):
// a relative file:// URL (file://./x) is made absolute against the working
// directory and its folder created, so that a later chdir cannot move it,
// and file buckets skip gocloud's .attrs sidecar files and write a
// package's temporary file in its folder (no_tmp_dir). A file bucket's
// folder and everything in it are made owner-only (0700 folders, 0600
// files), those there before included, and folders created later are 0700.
// Errors: a URL that does not parse, or a folder that cannot be created.
func ResolveURL(raw string) (string, error) {
	raw = cmp.Or(raw, DefaultURL)
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("LETHE_EXPORT_URL: %w", err)
	}
	if u.Scheme != "file" {
		return raw, nil
	}
	path := u.Path
	if u.Host == "." {
		path = strings.TrimPrefix(path, "/")
	}
	abs, err := filepath.Abs(filepath.FromSlash(path))
	if err != nil {
		return "", fmt.Errorf("LETHE_EXPORT_URL: %w", err)
	}
	// Packages hold personal data: the folder and what is in it already
	// are made owner-only, and folders the bucket creates too.
	if err := private.Tree(abs); err != nil {
		return "", fmt.Errorf("LETHE_EXPORT_URL: %w", err)
	}
	q := u.Query()
	if q.Get("metadata") == "" {
		q.Set("metadata", "skip") // no .attrs sidecar next to each package
	}
	if q.Get("dir_file_mode") == "" {
		q.Set("dir_file_mode", "0700")
	}
	// A package is written to a temporary file and renamed into place: next
	// to it, not in the system's temporary folder, which in a container is
	// another filesystem (a tmpfs) than the exports' volume.
	if q.Get("no_tmp_dir") == "" {
		q.Set("no_tmp_dir", "true")
	}
	out := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	return out.String(), nil
}

// OpenBucket opens the export bucket at raw (see ResolveURL).
func OpenBucket(ctx context.Context, raw string) (*blob.Bucket, error) {
	resolved, err := ResolveURL(raw)
	if err != nil {
		return nil, err
	}
	b, err := blob.OpenBucket(ctx, resolved)
	if err != nil {
		return nil, fmt.Errorf("LETHE_EXPORT_URL: open bucket: %w", err)
	}
	return b, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// objectName is a request's package in the bucket.
func objectName(requestID string) string { return requestID + ".zip.lethe" }

// Export implements engine.Exporter: it writes the package of req through
// the encrypter into the bucket, then records it with its expiry. A failed
// write leaves nothing in the bucket. Errors: the bucket's, as EUNAVAILABLE
// (retried); the stores' as the engine gives them.
func (s *Service) Export(ctx context.Context, req *dsr.Request, a *engine.Access) (*engine.ExportResult, error) {
	now := s.now().UTC().Truncate(time.Second)
	info := PackageInfo{RequestID: req.ID, Tenant: req.Tenant, Email: req.Email, CreatedAt: now,
		ExpiresAt: now.Add(cmp.Or(s.TTL, dsr.DefaultExportTTL)), SpoolDir: s.SpoolDir}
	s.audience(ctx, req, &info)
	object := objectName(req.ID)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	bw, err := s.Bucket.NewWriter(wctx, object, privateWriter(&blob.WriterOptions{ContentType: "application/octet-stream"}))
	if err != nil {
		return nil, unavailable("open the package for writing", err)
	}
	cw := &countWriter{w: bw}
	enc, err := Encrypt(cw, s.Key, req.ID)
	if err != nil {
		cancel()
		bw.Close()
		return nil, err
	}
	entries, err := Write(ctx, enc, info, a)
	if err == nil {
		err = enc.Close()
	}
	if err != nil {
		cancel() // aborts the write: the object is not created
		bw.Close()
		return nil, err
	}
	if err := bw.Close(); err != nil {
		return nil, unavailable("store the package", err)
	}
	rec := &dsr.Export{RequestID: req.ID, Tenant: req.Tenant, Object: object, Size: cw.n, Entries: entries,
		CreatedAt: now, ExpiresAt: info.ExpiresAt, KeyID: dsr.KeyID(s.Key)}
	if err := s.Records.SaveExport(ctx, rec); err != nil {
		return nil, err
	}
	return &engine.ExportResult{Object: object, Size: cw.n, Entries: entries, ExpiresAt: info.ExpiresAt}, nil
}

// Open implements dsr.ExportService.
func (s *Service) Open(ctx context.Context, c dsr.Caller, id string) (*dsr.Export, io.ReadCloser, error) {
	req, err := s.Requests.Get(ctx, c, id)
	if err != nil {
		return nil, nil, err
	}
	return s.OpenRequest(ctx, req)
}

// OpenRequest returns the package of req, decrypted, without asking who
// the caller is: for callers that proved their right otherwise, such as an
// end user's download link. ECONFLICT when req is not a completed access
// request or its package has expired or is gone; EGONE when the package was
// deleted by an erasure of its person; EUNAVAILABLE when the bucket cannot
// be read.
func (s *Service) OpenRequest(ctx context.Context, req *dsr.Request) (*dsr.Export, io.ReadCloser, error) {
	id := req.ID
	switch {
	case req.Type != dsr.TypeAccess:
		return nil, nil, dsr.Errorf(dsr.ECONFLICT, "request %s is an %s request: only access requests have a package", id, req.Type)
	case req.Status != dsr.StatusCompleted:
		return nil, nil, dsr.Errorf(dsr.ECONFLICT, "the package is not ready: request %s is %s", id, req.Status)
	}
	rec, err := s.Records.GetExport(ctx, id)
	if dsr.ErrorCode(err) == dsr.ENOTFOUND {
		return nil, nil, dsr.Errorf(dsr.ECONFLICT, "request %s has no package: file a new access request", id)
	} else if err != nil {
		return nil, nil, err
	}
	if rec.ErasedBy != "" {
		return nil, nil, dsr.Errorf(dsr.EGONE, "the package of request %s was deleted on %s with the rest of the person's data, by erasure request %s; nothing of it is kept",
			id, rec.DeletedAt.Format(time.RFC3339), rec.ErasedBy)
	}
	if rec.DeletedAt != nil || !s.now().Before(rec.ExpiresAt) {
		return nil, nil, dsr.Errorf(dsr.ECONFLICT, "the package of request %s expired on %s: file a new access request", id, rec.ExpiresAt.Format(time.RFC3339))
	}
	br, err := s.Bucket.NewReader(ctx, rec.Object, nil)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, nil, dsr.Errorf(dsr.ECONFLICT, "the package of request %s is gone from the export store: file a new access request", id)
	} else if err != nil {
		return nil, nil, unavailable("read the package", err)
	}
	dr, err := Decrypt(br, s.Key, id, s.Previous...)
	if errors.Is(err, ErrCorrupt) && rec.KeyID != "" && !s.knows(rec.KeyID) {
		br.Close()
		// The caller is told what is wrong, not the key's fingerprint, with
		// which a weak key could be guessed offline: the server log and
		// lethe keys rotate-check, the operator's, name it.
		return nil, nil, dsr.Errorf(dsr.EUNAVAILABLE, "the package of request %s is encrypted with an export key that is neither LETHE_EXPORT_KEY nor in LETHE_EXPORT_KEY_PREVIOUS: put that key back (lethe keys rotate-check and the server log name it by its fingerprint)", id).
			Because(fmt.Errorf("export key fingerprint %s", rec.KeyID))
	} else if err != nil {
		br.Close()
		return nil, nil, err
	}
	return rec, readCloser{dr, br}, nil
}

// knows reports whether id is the fingerprint of Key or of a previous key.
func (s *Service) knows(id string) bool {
	for _, k := range append([][]byte{s.Key}, s.Previous...) {
		if dsr.KeyID(k) == id {
			return true
		}
	}
	return false
}

// Ping checks that the export bucket is reachable, for /readyz.
func (s *Service) Ping(ctx context.Context) error {
	ok, err := s.Bucket.IsAccessible(ctx)
	if err == nil && !ok {
		err = errors.New("the export bucket does not exist")
	}
	if err != nil {
		return unavailable("reach the export bucket", err)
	}
	return nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

func unavailable(what string, cause error) error {
	return dsr.Errorf(dsr.EUNAVAILABLE, "export store: could not %s", what).Because(cause)
}

// privateWriter makes a file bucket write the object 0600 (see
// private.BeforeWrite).
func privateWriter(opts *blob.WriterOptions) *blob.WriterOptions {
	opts.BeforeWrite = private.BeforeWrite
	return opts
}
