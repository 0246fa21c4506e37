package export

import (
	"archive/zip"
	"compress/flate"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// compressionLevel trades size for speed: a package is written once, read
// once, and its rows compress well at the fastest level.
const compressionLevel = flate.BestSpeed

// PackageInfo is what a package says about itself.
type PackageInfo struct {
	RequestID string
	Tenant    string
	Email     string // the subject's own address, shown in the report
	CreatedAt time.Time
	ExpiresAt time.Time
	// SpoolDir is where CSV entries are spooled, encrypted ("" for the
	// system's temporary folder).
	SpoolDir string
	// Studio is the studio that holds the data (nil for a request of no
	// studio), as report.html names it.
	Studio *dsr.Tenant
	// Language is the tag of the language report.html is written in; ""
	// or one Lethe does not have is English.
	Language string
	// SelfServiceURL is the privacy page where the person can make
	// another request; "" when Lethe has no public address.
	SelfServiceURL string
}

// Manifest is manifest.json.
type Manifest struct {
	RequestID       string           `json:"request_id"`
	CreatedAt       time.Time        `json:"created_at"`
	ExpiresAt       time.Time        `json:"expires_at"`
	RegistryVersion string           `json:"registry_version"`
	Entries         []ManifestEntry  `json:"entries"`
	Counts          map[string]int64 `json:"counts"`
	Refused         []RefusedFile    `json:"refused_files,omitempty"`
}

// RefusedFile is a file key of the subject's rows that was not followed
// because it is absolute, holds ".." or leaves its store's prefix.
type RefusedFile struct {
	Store      string `json:"store"`
	Collection string `json:"collection"`
	Column     string `json:"column"`
	Key        string `json:"key"`
}

// builder writes one package.
type builder struct {
	ctx     context.Context
	z       *zip.Writer
	info    PackageInfo
	a       *engine.Access
	entries []ManifestEntry
	names   map[string]bool
	refused []RefusedFile
	counts  map[string]int64
	view    *view
	written []string // the files/ entries, in the order written
}

// Write writes the access package of a to w as a ZIP and returns the
// number of entries. Rows, files and keys are read from the stores as the
// ZIP is written. Errors name the collection or store that failed.
func Write(ctx context.Context, w io.Writer, info PackageInfo, a *engine.Access) (int, error) {
	b := &builder{ctx: ctx, z: zip.NewWriter(w), info: info, a: a, names: map[string]bool{}, counts: map[string]int64{},
		view: newView(a.Registry)}
	b.z.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, compressionLevel)
	})
	for _, it := range a.Plan.Collections {
		c := a.Registry.Collections[it.Store+"."+it.Collection]
		if err := b.table(c); err != nil {
			return 0, err
		}
	}
	if err := b.files(); err != nil {
		return 0, err
	}
	if err := b.keys(); err != nil {
		return 0, err
	}
	if err := b.mentions(); err != nil {
		return 0, err
	}
	for k, n := range a.Counts {
		b.counts[k] = n
	}
	if err := b.report(); err != nil {
		return 0, err
	}
	if err := b.manifest(); err != nil {
		return 0, err
	}
	if err := b.z.Close(); err != nil {
		return 0, fmt.Errorf("export: finish the zip: %w", err)
	}
	return len(b.entries) + 1, nil
}

func (b *builder) create(name string) (*hashWriter, error) {
	if b.names[name] {
		return nil, nil
	}
	b.names[name] = true
	w, err := b.z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: b.info.CreatedAt})
	if err != nil {
		return nil, fmt.Errorf("export: %s: %w", name, err)
	}
	return newHashWriter(w), nil
}

// table writes data/<store>/<collection>.json while its .csv twin is
// spooled on the other core, then appends the .csv.
func (b *builder) table(c *registry.Collection) (err error) {
	base := "data/" + c.Store + "/" + c.Name
	hw, err := b.create(base + ".json")
	if err != nil {
		return err
	}
	sp, err := newSpool(b.info.SpoolDir, base+".csv")
	if err != nil {
		return err
	}
	js, csv := newAsyncWriter(hw), newAsyncWriter(sp)
	defer func() {
		err = errors.Join(err, js.Close(), csv.Close())
		if err != nil {
			sp.remove()
		}
	}()
	jsonCols := map[string]bool{}
	for col := range c.JSON {
		jsonCols[col] = true
	}
	var enc *rowEncoder
	var rows int64
	js.Write([]byte("["))
	err = b.a.Rows(b.ctx, c, func(cols []string, vals []any) error {
		if enc == nil {
			enc = newRowEncoder(cols, jsonCols)
			csv.Write(enc.header())
		}
		b.view.add(c, cols, vals)
		j, v := enc.row(vals)
		if rows > 0 {
			js.Write([]byte(",\n"))
		} else {
			js.Write([]byte("\n"))
		}
		js.Write(j)
		csv.Write(v)
		rows++
		return nil
	})
	if err != nil {
		return err
	}
	js.Write([]byte("\n]\n"))
	if err := js.Close(); err != nil {
		return fmt.Errorf("export: %s.json: %w", base, err)
	}
	if err := csv.Close(); err != nil {
		return fmt.Errorf("export: %s.csv: %w", base, err)
	}
	e := hw.entry(base + ".json")
	e.Rows = &rows
	b.entries = append(b.entries, e)
	ce, err := sp.appendTo(b.z, b.info.CreatedAt)
	if err != nil {
		return err
	}
	ce.Rows = &rows
	b.entries = append(b.entries, ce)
	return nil
}

// files copies every followable object into files/<store>/<key>.
func (b *builder) files() error {
	return b.a.Files(b.ctx, func(f engine.FileRef, open func() (io.ReadCloser, error)) error {
		if f.Refused {
			b.refused = append(b.refused, RefusedFile{Store: f.Store, Collection: f.Collection, Column: f.Column, Key: f.Key})
			return nil
		}
		name := "files/" + f.Store + "/" + f.Key
		hw, err := b.create(name)
		if err != nil || hw == nil {
			return err
		}
		r, err := open()
		if err != nil {
			return fmt.Errorf("export files of %s.%s: %w", f.Collection, f.Column, err)
		}
		defer r.Close()
		if _, err := io.Copy(hw, r); err != nil {
			return fmt.Errorf("export files of %s.%s from store %s: %w", f.Collection, f.Column, f.Store, err)
		}
		b.entries = append(b.entries, hw.entry(name))
		b.written = append(b.written, name)
		return nil
	})
}

// keys writes redis/<store>.json, an array of keys with their values, per
// redis store.
func (b *builder) keys() error {
	var hw *hashWriter
	var cur, name string
	n := 0
	finish := func() error {
		if hw == nil {
			return nil
		}
		if _, err := hw.Write([]byte("\n]\n")); err != nil {
			return err
		}
		b.entries = append(b.entries, hw.entry(name))
		hw = nil
		return nil
	}
	err := b.a.Keys(b.ctx, func(store string, kv *engine.KeyValue) error {
		if store != cur {
			if err := finish(); err != nil {
				return err
			}
			cur, name, n = store, "redis/"+store+".json", 0
			var err error
			if hw, err = b.create(name); err != nil {
				return err
			}
			hw.Write([]byte("["))
		}
		return writeElement(hw, &n, kv)
	})
	if err != nil {
		return err
	}
	return finish()
}

// manifest writes manifest.json, listing every other entry.
func (b *builder) manifest() error {
	m := Manifest{RequestID: b.info.RequestID, CreatedAt: b.info.CreatedAt, ExpiresAt: b.info.ExpiresAt,
		RegistryVersion: b.a.Registry.Version(), Entries: b.entries, Counts: map[string]int64{}, Refused: b.refused}
	for _, it := range b.a.Plan.Collections {
		m.Counts[it.Store+"."+it.Collection] = it.Count
	}
	for k, n := range b.counts {
		m.Counts[k] = n
	}
	sort.Slice(m.Entries, func(i, j int) bool { return m.Entries[i].Name < m.Entries[j].Name })
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	w, err := b.z.CreateHeader(&zip.FileHeader{Name: "manifest.json", Method: zip.Deflate, Modified: b.info.CreatedAt})
	if err != nil {
		return err
	}
	_, err = w.Write(append(raw, '\n'))
	return err
}
