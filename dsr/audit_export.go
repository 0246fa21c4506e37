package dsr

import (
	"bufio"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// AuditExportFormat names the file lethe audit export writes: JSON lines,
// a header, then the checkpoints, then the entries in chain order, so that
// a verifier holding only the public key can check it anywhere.
const AuditExportFormat = "lethe-audit-export/1"

// auditExportLine is one line of an export: exactly one field is set.
type auditExportLine struct {
	Format     string      `json:"format,omitempty"`
	Head       *AuditHead  `json:"head,omitempty"`
	Checkpoint *Checkpoint `json:"checkpoint,omitempty"`
	Entry      *AuditEntry `json:"entry,omitempty"`
}

// AuditHead is the chain's recorded end.
type AuditHead struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// AuditExportWriter writes an export to w: header and checkpoints first,
// then Entry for each entry in chain order.
type AuditExportWriter struct {
	enc *json.Encoder
}

// NewAuditExportWriter writes the header of an export of the chain ending
// at head, with its checkpoints.
func NewAuditExportWriter(w io.Writer, head AuditHead, cps []*Checkpoint) (*AuditExportWriter, error) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // details are written back byte for byte
	if err := enc.Encode(auditExportLine{Format: AuditExportFormat, Head: &head}); err != nil {
		return nil, fmt.Errorf("audit export: %w", err)
	}
	for _, c := range cps {
		if err := enc.Encode(auditExportLine{Checkpoint: c}); err != nil {
			return nil, fmt.Errorf("audit export: %w", err)
		}
	}
	return &AuditExportWriter{enc: enc}, nil
}

// Entry writes one entry.
func (w *AuditExportWriter) Entry(e *AuditEntry) error {
	if err := w.enc.Encode(auditExportLine{Entry: e}); err != nil {
		return fmt.Errorf("audit export: entry %d: %w", e.Seq, err)
	}
	return nil
}

// VerifyAuditExport checks an export read from r with pub alone, as
// VerifyAnchoredChain checks the live chain. Errors: a file that is not an
// export (its first line names the format), or a line that does not parse,
// named by its number.
func VerifyAuditExport(r io.Reader, pub ed25519.PublicKey, previous ...ed25519.PublicKey) (*AuditVerification, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	line := 0
	read := func() (*auditExportLine, error) {
		if !sc.Scan() {
			if err := sc.Err(); err != nil {
				return nil, fmt.Errorf("audit export: line %d: %w", line+1, err)
			}
			return nil, nil
		}
		line++
		var l auditExportLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("audit export: line %d: %w", line, err)
		}
		return &l, nil
	}
	first, err := read()
	if err != nil {
		return nil, err
	}
	if first == nil || first.Format != AuditExportFormat || first.Head == nil {
		return nil, errors.New("audit export: not a file written by lethe audit export (its first line names " + AuditExportFormat + ")")
	}
	var cps []*Checkpoint
	var pending *AuditEntry
	for pending == nil {
		l, err := read()
		if err != nil {
			return nil, err
		} else if l == nil {
			break
		}
		if l.Checkpoint != nil {
			cps = append(cps, l.Checkpoint)
		}
		pending = l.Entry
	}
	next := func() (*AuditEntry, error) {
		if pending != nil {
			e := pending
			pending = nil
			return e, nil
		}
		for {
			l, err := read()
			if err != nil || l == nil {
				return nil, err
			}
			if l.Entry != nil {
				return l.Entry, nil
			}
		}
	}
	return VerifyAnchoredChain(next, first.Head.Seq, first.Head.Hash, cps, pub, previous...)
}
